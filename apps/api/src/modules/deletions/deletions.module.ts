import { Module } from '@nestjs/common';

import { DeletionsRepository } from '#libs/domain/deletions';
import { DeletionsService } from '#libs/domain/deletions';

import { DatasetsModule } from '../datasets/datasets.module.js';
import { DeletionsResolver } from './deletions.resolver.js';

@Module({
  imports: [DatasetsModule],
  providers: [DeletionsResolver, DeletionsService, DeletionsRepository],
})
export class DeletionsModule {}
