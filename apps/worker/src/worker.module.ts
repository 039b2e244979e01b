import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';

import { type AppConfig, ConfigModule } from '#libs/core/config';
import { DbModule } from '#libs/core/db';
import { QueueModule } from '#libs/core/queue';
import { RunLifecycleModule, RunsRepository } from '#libs/domain/runs';
import { SweepSchedulerModule } from '#libs/domain/sweeps';

import { JobDispatcher } from './jobs/job-dispatcher.service.js';
import { ReconcilerService } from './reconciler/reconciler.service.js';
import { TrainingProcessor } from './training/training.processor.js';
import { TrainingBackend } from './training/training-backend.js';

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule,
        DbModule,
        QueueModule.register(config),
        DiscoveryModule,
        RunLifecycleModule,
        SweepSchedulerModule,
      ],
      providers: [JobDispatcher, ReconcilerService, TrainingBackend, TrainingProcessor, RunsRepository],
    };
  }
}
