import { Module } from '@nestjs/common';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { DeletionsRepository } from './deletions.repository.js';
import { DeletionsResolver } from './deletions.resolver.js';
import { DeletionsService } from './deletions.service.js';

@Module({
  imports: [DatasetsModule],
  providers: [DeletionsResolver, DeletionsService, DeletionsRepository],
})
export class DeletionsModule {}
