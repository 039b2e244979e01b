import 'reflect-metadata';

import { HttpException, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';

import { JsonLogger, listenUrl, loadConfig } from '#libs/core/config';
import { applyMigrations, withRetry } from '#libs/core/db';
import { describeQueue } from '#libs/core/queue';

import { AppModule } from './app.module.js';
import { sendRestError } from './platform/client-errors.js';

/** Large enough for a 10,000-row predict call; larger bodies get a 413. */
const JSON_BODY_LIMIT = '16mb';

export async function startApi(config = loadConfig()): Promise<NestExpressApplication> {
  // The database may be starting (or restarting) along with us: wait for it rather than die.
  await withRetry('applying migrations', () => applyMigrations(config.databaseUrl), { totalMs: 60_000 });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    logger: new JsonLogger('api', config.logLevel),
    bodyParser: false,
  });
  app.use(express.json({ limit: JSON_BODY_LIMIT }));
  // Body-parser errors happen before Nest routes the request: answer them in the contract's shape.
  app.use(
    (
      error: { status?: number; type?: string; message: string },
      _request: Request,
      response: Response,
      next: NextFunction,
    ) => {
      if (!error) return next();
      const status = error.status && error.status < 500 ? error.status : 400;
      const message =
        error.type === 'entity.too.large'
          ? `the request body is larger than ${JSON_BODY_LIMIT}`
          : `the request body is not valid JSON: ${error.message}`;
      sendRestError(response, new HttpException(message, status));
    },
  );
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const database = new URL(config.databaseUrl);
  const where = `database ${database.host}${database.pathname}; queue ${describeQueue(config)}`;
  Logger.log(`API listening on ${listenUrl(config)} (GraphQL at /graphql); ${where}`, 'Main');
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  startApi().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
