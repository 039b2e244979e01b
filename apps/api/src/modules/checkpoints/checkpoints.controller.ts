import { Controller, Get, Param, Res } from '@nestjs/common';
import type { Response } from 'express';

import { CheckpointsService, type LayersModelJson } from '#libs/domain/runs';

@Controller('v1/checkpoints')
export class CheckpointsController {
  constructor(private readonly checkpoints: CheckpointsService) {}

  @Get(':id/model.json')
  async modelJson(@Param('id') id: string): Promise<LayersModelJson> {
    return this.checkpoints.modelJson(await this.checkpoints.get(id));
  }

  @Get(':id/weights.bin')
  async weights(@Param('id') id: string, @Res() response: Response): Promise<void> {
    const checkpoint = await this.checkpoints.get(id);
    response.setHeader('Content-Type', 'application/octet-stream');
    response.setHeader('Content-Length', String(checkpoint.weights.byteLength));
    response.end(Buffer.from(checkpoint.weights));
  }
}
