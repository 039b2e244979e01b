import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '../../../libs/config/src/index.js';
import { applyMigrations } from '../../../libs/db/src/index.js';
import { AppModule } from './app.module.js';

export async function startApi(config = loadConfig()): Promise<NestExpressApplication> {
  await applyMigrations(config.databaseUrl);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), { logger: ['error', 'warn', 'log'] });
  app.enableShutdownHooks();
  await app.listen(config.port, '0.0.0.0');
  const database = new URL(config.databaseUrl);
  Logger.log(
    `API listening on http://localhost:${config.port} (GraphQL at /graphql); database ${database.host}${database.pathname}; queue ${config.redisUrl ? `bullmq at ${new URL(config.redisUrl).host}` : 'embedded'}`,
    'Main',
  );
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  startApi().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
