import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { type AppConfig, ConfigModule } from '../../../libs/config/src/index.js';
import { DbModule } from '../../../libs/db/src/index.js';
import { QueueModule } from '../../../libs/queue/src/index.js';
import { CheckpointsModule } from './modules/checkpoints/checkpoints.module.js';
import { DatasetsModule } from './modules/datasets/datasets.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { ModelsModule } from './modules/models/models.module.js';
import { RunsModule } from './modules/runs/runs.module.js';
import { SweepsModule } from './modules/sweeps/sweeps.module.js';
import { AppExceptionFilter } from './platform/app-exception.filter.js';
import './platform/graphql-enums.js';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule,
        DbModule,
        QueueModule.register(config),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: '/graphql',
          autoSchemaFile: true,
          sortSchema: true,
          playground: false,
          introspection: true,
          subscriptions: { 'graphql-ws': { path: '/graphql' } },
          context: ({ req, extra }: { req?: unknown; extra?: unknown }) => ({ req, extra }),
        }),
        HealthModule,
        DatasetsModule,
        ModelsModule,
        RunsModule,
        SweepsModule,
        CheckpointsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AppExceptionFilter }],
    };
  }
}
