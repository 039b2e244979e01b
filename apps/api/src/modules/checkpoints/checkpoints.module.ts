import { Module } from '@nestjs/common';

import { CheckpointsService } from '#libs/domain/runs';
import { ConfusionMatrixService } from '#libs/domain/runs';
import { PredictionsService } from '#libs/domain/runs';

import { DatasetsModule } from '../datasets/datasets.module.js';
import { ModelsModule } from '../models/models.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { CheckpointsController } from './checkpoints.controller.js';
import { LayersController } from './layers.controller.js';
import { PredictionsResolver } from './predictions.resolver.js';
import { RunEvaluationResolver } from './run-evaluation.resolver.js';

@Module({
  imports: [RunsModule, DatasetsModule, ModelsModule],
  controllers: [CheckpointsController, LayersController],
  providers: [
    CheckpointsService,
    PredictionsService,
    PredictionsResolver,
    ConfusionMatrixService,
    RunEvaluationResolver,
  ],
})
export class CheckpointsModule {}
