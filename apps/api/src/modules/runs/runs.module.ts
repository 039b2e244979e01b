import { Module } from '@nestjs/common';
import { SweepSchedulerModule } from '#libs/domain/sweeps';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { ModelsModule } from '../models/models.module.js';
import { RunEventsBridge } from './run-events.bridge.js';
import { RunLifecycleModule, RunsRepository } from '#libs/domain/runs';
import { RunsResolver } from './runs.resolver.js';
import { RunsService } from '#libs/domain/runs';
import { pageTotalCountResolver } from '#libs/core/pagination';
import { RunPage } from '#libs/domain/runs';

@Module({
  imports: [DatasetsModule, ModelsModule, RunLifecycleModule, SweepSchedulerModule],
  providers: [pageTotalCountResolver(RunPage), RunsResolver, RunsService, RunsRepository, RunEventsBridge],
  exports: [RunsService, RunsRepository, RunEventsBridge],
})
export class RunsModule {}
