import { Module } from '@nestjs/common';
import { SweepSchedulerModule } from '#libs/domain/sweeps';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { ModelsModule } from '../models/models.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { SweepsRepository } from './sweeps.repository.js';
import { RunSweepResolver, SweepsResolver } from './sweeps.resolver.js';
import { SweepsService } from './sweeps.service.js';
import { pageTotalCountResolver } from '../../platform/pagination.js';
import { SweepPage } from './dto/sweep.type.js';

@Module({
  imports: [DatasetsModule, ModelsModule, RunsModule, SweepSchedulerModule],
  providers: [pageTotalCountResolver(SweepPage), SweepsResolver, RunSweepResolver, SweepsService, SweepsRepository],
  exports: [SweepsService],
})
export class SweepsModule {}
