import { Module } from '@nestjs/common';
import { SweepSchedulerModule } from '#libs/domain/sweeps';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { ModelsModule } from '../models/models.module.js';
import { RunEventsBridge } from './run-events.bridge.js';
import { RunsRepository } from './runs.repository.js';
import { RunsResolver } from './runs.resolver.js';
import { RunsService } from './runs.service.js';
import { pageTotalCountResolver } from '../../platform/pagination.js';
import { RunPage } from './dto/run.type.js';

@Module({
  imports: [DatasetsModule, ModelsModule, SweepSchedulerModule],
  providers: [pageTotalCountResolver(RunPage), RunsResolver, RunsService, RunsRepository, RunEventsBridge],
  exports: [RunsService, RunsRepository, RunEventsBridge],
})
export class RunsModule {}
