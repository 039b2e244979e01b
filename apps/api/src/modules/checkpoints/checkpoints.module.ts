import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module.js';
import { CheckpointsController } from './checkpoints.controller.js';
import { CheckpointsService } from './checkpoints.service.js';
import { LayersController } from './layers.controller.js';
import { PredictionsResolver } from './predictions.resolver.js';
import { PredictionsService } from './predictions.service.js';

@Module({
  imports: [RunsModule],
  controllers: [CheckpointsController, LayersController],
  providers: [CheckpointsService, PredictionsService, PredictionsResolver],
})
export class CheckpointsModule {}
