import { Module } from '@nestjs/common';
import { ModelsRepository } from '#libs/domain/models';
import { ModelsResolver } from './models.resolver.js';
import { ModelsService } from '#libs/domain/models';
import { ModelPage } from '#libs/domain/models';
import { pageTotalCountResolver } from '#libs/core/pagination';

@Module({
  providers: [ModelsResolver, pageTotalCountResolver(ModelPage), ModelsService, ModelsRepository],
  exports: [ModelsService],
})
export class ModelsModule {}
