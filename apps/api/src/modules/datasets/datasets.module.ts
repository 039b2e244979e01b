import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { pageTotalCountResolver } from '#libs/core/pagination';
import { DatasetFilesRepository, uploadsFolder } from '#libs/domain/datasets';
import { DatasetHistogramsService } from '#libs/domain/datasets';
import { ImageSamplesService } from '#libs/domain/datasets';
import { DatasetsRepository } from '#libs/domain/datasets';
import { DatasetsService } from '#libs/domain/datasets';
import { DatasetPage } from '#libs/domain/datasets';

import { DatasetViewsResolver } from './dataset-views.resolver.js';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsResolver } from './datasets.resolver.js';
import { StreamingDiskStorage } from './streaming-disk-storage.js';

@Module({
  imports: [
    MulterModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // Streamed to a file named by a fresh id; the client's file name is kept only as a label.
        storage: new StreamingDiskStorage(uploadsFolder(config.dataDir)),
        limits: { fileSize: config.limits.maxUploadBytes, files: 1, fields: 10, fieldSize: 1024 },
      }),
    }),
  ],
  controllers: [DatasetsController],
  providers: [
    DatasetsResolver,
    pageTotalCountResolver(DatasetPage),
    DatasetsService,
    DatasetsRepository,
    DatasetFilesRepository,
    DatasetHistogramsService,
    DatasetViewsResolver,
    ImageSamplesService,
  ],
  exports: [DatasetsService, DatasetFilesRepository],
})
export class DatasetsModule {}
