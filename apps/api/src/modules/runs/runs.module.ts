import { Module } from '@nestjs/common';

import { pageTotalCountResolver } from '#libs/core/pagination';
import { RunLifecycleModule, RunsRepository } from '#libs/domain/runs';
import { RunsService } from '#libs/domain/runs';
import { RunPage } from '#libs/domain/runs';
import { SweepSchedulerModule } from '#libs/domain/sweeps';

import { DatasetsModule } from '../datasets/datasets.module.js';
import { ModelsModule } from '../models/models.module.js';
import { RunEventsBridge } from './run-events.bridge.js';
import { RunsResolver } from './runs.resolver.js';

@Module({
  imports: [DatasetsModule, ModelsModule, RunLifecycleModule, SweepSchedulerModule],
  providers: [pageTotalCountResolver(RunPage), RunsResolver, RunsService, RunsRepository, RunEventsBridge],
  exports: [RunsService, RunsRepository, RunEventsBridge],
})
export class RunsModule {}
