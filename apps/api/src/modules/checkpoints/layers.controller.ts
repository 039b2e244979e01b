import { Controller, Get, Header } from '@nestjs/common';

import { servedLayersModule } from '#libs/pure/training';

/** The service's own layers as a self-contained ES module, so a stock TF.js can load checkpoints that use them. */
@Controller('v1')
export class LayersController {
  @Get('layers.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  layers(): Promise<string> {
    return servedLayersModule();
  }
}
