import { Module } from '@nestjs/common';
import { ModelsRepository } from './models.repository.js';
import { ModelsResolver } from './models.resolver.js';
import { ModelsService } from './models.service.js';
import { ModelPage } from './dto/model-definition.type.js';
import { pageTotalCountResolver } from '../../platform/pagination.js';

@Module({
  providers: [ModelsResolver, pageTotalCountResolver(ModelPage), ModelsService, ModelsRepository],
  exports: [ModelsService],
})
export class ModelsModule {}
