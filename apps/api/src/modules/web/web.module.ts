import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';

import { DashboardMiddleware } from './dashboard.middleware.js';

/** The dashboard (apps/web) and GraphiQL, served as built static files. */
@Module({})
export class WebModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DashboardMiddleware).forRoutes('*');
  }
}
