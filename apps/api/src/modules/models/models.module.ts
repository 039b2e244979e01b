import { Module } from '@nestjs/common';

import { pageTotalCountResolver } from '#libs/core/pagination';
import { ModelsRepository } from '#libs/domain/models';
import { ModelsService } from '#libs/domain/models';
import { ModelPage } from '#libs/domain/models';

import { ModelsResolver } from './models.resolver.js';

@Module({
  providers: [ModelsResolver, pageTotalCountResolver(ModelPage), ModelsService, ModelsRepository],
  exports: [ModelsService],
})
export class ModelsModule {}
