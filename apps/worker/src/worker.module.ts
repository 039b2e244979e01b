import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { type AppConfig, ConfigModule } from '../../../libs/config/src/index.js';
import { DbModule } from '../../../libs/db/src/index.js';
import { QueueModule } from '../../../libs/queue/src/index.js';
import { SweepSchedulerModule } from '../../../libs/sweeps/src/index.js';
import { JobDispatcher } from './jobs/job-dispatcher.service.js';
import { ReconcilerService } from './reconciler/reconciler.service.js';
import { TrainingBackend } from './training/training-backend.js';
import { TrainingProcessor } from './training/training.processor.js';
import { TrainingRunsRepository } from './training/training-runs.repository.js';

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule, DbModule, QueueModule.register(config), DiscoveryModule, SweepSchedulerModule],
      providers: [JobDispatcher, ReconcilerService, TrainingBackend, TrainingProcessor, TrainingRunsRepository],
    };
  }
}
