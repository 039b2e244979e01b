import { Module } from '@nestjs/common';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { DeletionsRepository } from '#libs/domain/deletions';
import { DeletionsResolver } from './deletions.resolver.js';
import { DeletionsService } from '#libs/domain/deletions';

@Module({
  imports: [DatasetsModule],
  providers: [DeletionsResolver, DeletionsService, DeletionsRepository],
})
export class DeletionsModule {}
