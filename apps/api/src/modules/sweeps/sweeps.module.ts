import { Module } from '@nestjs/common';

import { pageTotalCountResolver } from '#libs/core/pagination';
import { SweepSchedulerModule } from '#libs/domain/sweeps';
import { SweepsRepository } from '#libs/domain/sweeps';
import { SweepsService } from '#libs/domain/sweeps';
import { SweepPage } from '#libs/domain/sweeps';

import { DatasetsModule } from '../datasets/datasets.module.js';
import { ModelsModule } from '../models/models.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { RunSweepResolver, SweepsResolver } from './sweeps.resolver.js';

@Module({
  imports: [DatasetsModule, ModelsModule, RunsModule, SweepSchedulerModule],
  providers: [pageTotalCountResolver(SweepPage), SweepsResolver, RunSweepResolver, SweepsService, SweepsRepository],
  exports: [SweepsService],
})
export class SweepsModule {}
