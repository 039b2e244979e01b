import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '../../../libs/config/src/index.js';
import { applyMigrations } from '../../../libs/db/src/index.js';
import { JobDispatcher } from './jobs/job-dispatcher.service.js';
import { ReconcilerService } from './reconciler/reconciler.service.js';
import { TrainingBackend } from './training/training-backend.js';
import { WorkerModule } from './worker.module.js';

export async function startWorker(config = loadConfig()) {
  await applyMigrations(config.databaseUrl);
  const app = await NestFactory.createApplicationContext(WorkerModule.register(config), { logger: ['error', 'warn', 'log'] });
  app.enableShutdownHooks();
  await app.get(JobDispatcher).start();
  app.get(ReconcilerService).start();
  Logger.log(`worker ready: backend ${app.get(TrainingBackend).device}, concurrency ${config.worker.concurrency}`, 'Main');
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  startWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
