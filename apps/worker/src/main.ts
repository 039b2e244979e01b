import 'reflect-metadata';

import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { JsonLogger, loadConfig } from '#libs/core/config';
import { applyMigrations, withRetry } from '#libs/core/db';
import { JOB_QUEUE, type JobQueue } from '#libs/core/queue';

import { JobDispatcher } from './jobs/job-dispatcher.service.js';
import { ReconcilerService } from './reconciler/reconciler.service.js';
import { TrainingProcessor } from './training/training.processor.js';
import { TrainingBackend } from './training/training-backend.js';
import { WorkerModule } from './worker.module.js';

/** After SIGTERM the worker must be gone within this long, whatever it was doing. */
const SHUTDOWN_DEADLINE_MS = 9_000;

export async function startWorker(config = loadConfig()) {
  // The database may be starting (or restarting) along with us: wait for it rather than die.
  await withRetry('applying migrations', () => applyMigrations(config.databaseUrl), { totalMs: 60_000 });
  const app = await NestFactory.createApplicationContext(WorkerModule.register(config), {
    logger: new JsonLogger('worker', config.logLevel),
  });
  const dispatcher = app.get(JobDispatcher);
  const processor = app.get(TrainingProcessor);
  const queue = app.get<JobQueue>(JOB_QUEUE);
  const logger = new Logger('Worker');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: finishing the current batch, checkpointing and handing runs back`);
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    processor.beginShutdown();
    app.get(ReconcilerService).onApplicationShutdown();
    await dispatcher.stop();
    // Their jobs have completed now, so the same job ids can be queued again for the next worker.
    for (const job of processor.handedBack)
      await queue
        .enqueue(job)
        .catch((error: Error) => logger.warn(`re-enqueue ${job.runId}: ${error.message} (the reconciler will)`));
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await dispatcher.start();
  app.get(ReconcilerService).start();
  logger.log(
    `worker ready: backend ${app.get(TrainingBackend).device}, concurrency ${config.worker.concurrency}, queue ` +
      `${queue.driver}`,
  );
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  startWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
