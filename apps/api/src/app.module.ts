import '#libs/core/graphql';

import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';

import { type AppConfig, ConfigModule } from '#libs/core/config';
import { DbModule } from '#libs/core/db';
import { QueueModule } from '#libs/core/queue';

import { ApiKeyMiddleware } from './modules/auth/api-key.middleware.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { CheckpointsModule } from './modules/checkpoints/checkpoints.module.js';
import { DatasetsModule } from './modules/datasets/datasets.module.js';
import { DeletionsModule } from './modules/deletions/deletions.module.js';
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
import { graphqlErrorFormatter } from './platform/client-errors.js';
import { MAX_QUERY_TOKENS, queryCostPlugin, queryLimitsRule } from './platform/graphql-limits.js';
import { GraphqlWsServer } from './platform/graphql-ws.server.js';
import { InputValidationPipe } from './platform/input-validation.pipe.js';

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
          inject: [MetricsService],
          useFactory: (metrics: MetricsService) => ({
            path: '/graphql',
            autoSchemaFile: true,
            sortSchema: true,
            playground: false,
            introspection: true,
            validationRules: [queryLimitsRule()],
            // Errors of nested fields (Run.metrics(maxPoints), Sweep.runsPage(after)) reach AppExceptionFilter too.
            fieldResolverEnhancers: ['filters'],
            parseOptions: { maxTokens: MAX_QUERY_TOKENS },
            // Stacks and driver messages are logged with the request id, never sent (see graphqlErrorFormatter).
            includeStacktraceInErrorResponses: false,
            formatError: graphqlErrorFormatter,
            plugins: [graphqlMetricsPlugin(metrics), queryCostPlugin()],
            // graphql-ws is served by GraphqlWsServer (platform/graphql-ws.server.ts), with its own limits.
            context: ({ req }: { req?: unknown }) => ({ req }),
          }),
        }),
        HealthModule,
        DatasetsModule,
        ModelsModule,
        RunsModule,
        SweepsModule,
        CheckpointsModule,
        DeletionsModule,
        WebModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AppExceptionFilter },
        { provide: APP_PIPE, useClass: InputValidationPipe },
        GraphqlWsServer,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware, ApiKeyMiddleware).forRoutes('*');
  }
}
