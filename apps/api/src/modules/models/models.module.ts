import { Module } from '@nestjs/common';
import { ModelsRepository } from './models.repository.js';
import { ModelsResolver } from './models.resolver.js';
import { ModelsService } from './models.service.js';

@Module({ providers: [ModelsResolver, ModelsService, ModelsRepository], exports: [ModelsService] })
export class ModelsModule {}
