import { Module } from '@nestjs/common';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { ModelsModule } from '../models/models.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { CheckpointsController } from './checkpoints.controller.js';
import { CheckpointsService } from './checkpoints.service.js';
import { ConfusionMatrixService } from './confusion-matrix.service.js';
import { LayersController } from './layers.controller.js';
import { PredictionsResolver } from './predictions.resolver.js';
import { PredictionsService } from './predictions.service.js';
import { RunEvaluationResolver } from './run-evaluation.resolver.js';

@Module({
  imports: [RunsModule, DatasetsModule, ModelsModule],
  controllers: [CheckpointsController, LayersController],
  providers: [CheckpointsService, PredictionsService, PredictionsResolver, ConfusionMatrixService, RunEvaluationResolver],
})
export class CheckpointsModule {}
