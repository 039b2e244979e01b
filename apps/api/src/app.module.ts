import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import type { Context } from 'graphql-ws';
import { type AppConfig, ConfigModule } from '../../../libs/config/src/index.js';
import { DbModule } from '../../../libs/db/src/index.js';
import { QueueModule } from '../../../libs/queue/src/index.js';
import { ApiKeyMiddleware } from './modules/auth/api-key.middleware.js';
import { ApiKeysService } from './modules/auth/api-keys.service.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { CheckpointsModule } from './modules/checkpoints/checkpoints.module.js';
import { DatasetsModule } from './modules/datasets/datasets.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { ModelsModule } from './modules/models/models.module.js';
import { graphqlMetricsPlugin } from './modules/observability/graphql-metrics.plugin.js';
import { HttpMetricsMiddleware } from './modules/observability/http-metrics.middleware.js';
import { MetricsService } from './modules/observability/metrics.service.js';
import { ObservabilityModule } from './modules/observability/observability.module.js';
import { RunsModule } from './modules/runs/runs.module.js';
import { SweepsModule } from './modules/sweeps/sweeps.module.js';
import { WebModule } from './modules/web/web.module.js';
import { AppExceptionFilter } from './platform/app-exception.filter.js';
import { queryLimitsRule } from './platform/graphql-limits.js';
import './platform/graphql-enums.js';

@Module({})
export class AppModule implements NestModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule,
        DbModule,
        QueueModule.register(config),
        AuthModule,
        ObservabilityModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          imports: [ObservabilityModule],
          inject: [ApiKeysService, MetricsService],
          useFactory: (keys: ApiKeysService, metrics: MetricsService) => ({
            path: '/graphql',
            autoSchemaFile: true,
            sortSchema: true,
            playground: false,
            introspection: true,
            validationRules: [queryLimitsRule()],
            // Errors of nested fields (Run.metrics(maxPoints), Sweep.runsPage(after)) reach AppExceptionFilter too.
            fieldResolverEnhancers: ['filters'],
            // The contract's codes: a query that does not parse or validate is bad user input.
            formatError: (formatted) =>
              ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED'].includes(String(formatted.extensions?.code))
                ? { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } }
                : formatted,
            plugins: [graphqlMetricsPlugin(metrics)],
            subscriptions: {
              'graphql-ws': {
                path: '/graphql',
                // A subscription connection shows its key once: as a connection parameter or on the upgrade request.
                onConnect: async (context: Context<Record<string, unknown> | undefined, unknown>) => {
                  const upgrade = (context.extra as { request?: { headers: Record<string, string | undefined> } }).request;
                  const header = context.connectionParams?.Authorization ?? context.connectionParams?.authorization ?? upgrade?.headers.authorization;
                  return keys.isAuthorized(header);
                },
              },
            },
            context: ({ req, extra }: { req?: unknown; extra?: unknown }) => ({ req, extra, wsAuthorized: extra !== undefined }),
          }),
        }),
        HealthModule,
        DatasetsModule,
        ModelsModule,
        RunsModule,
        SweepsModule,
        CheckpointsModule,
        WebModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AppExceptionFilter }],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware, ApiKeyMiddleware).forRoutes('*');
  }
}
