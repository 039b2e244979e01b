import { Module } from '@nestjs/common';
import { SweepSchedulerModule } from '#libs/domain/sweeps';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { ModelsModule } from '../models/models.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { SweepsRepository } from '#libs/domain/sweeps';
import { RunSweepResolver, SweepsResolver } from './sweeps.resolver.js';
import { SweepsService } from '#libs/domain/sweeps';
import { pageTotalCountResolver } from '#libs/core/pagination';
import { SweepPage } from '#libs/domain/sweeps';

@Module({
  imports: [DatasetsModule, ModelsModule, RunsModule, SweepSchedulerModule],
  providers: [pageTotalCountResolver(SweepPage), SweepsResolver, RunSweepResolver, SweepsService, SweepsRepository],
  exports: [SweepsService],
})
export class SweepsModule {}
