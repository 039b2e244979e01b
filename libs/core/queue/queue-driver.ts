import type { AppConfig } from '#libs/core/config';

import { BullmqJobQueue } from './bullmq-job-queue.js';
import type { JobQueue } from './job-queue.port.js';
import { PgBossJobQueue } from './pgboss-job-queue.js';

export type QueueDriver = { name: 'bullmq'; redisUrl: string } | { name: 'pg-boss' };

/**
 * Which driver a config picks, the one place that choice is made: BullMQ when REDIS_URL is set, else pg-boss on the
 * service's own PostgreSQL (schema `pgboss`), so one machine needs no Redis.
 */
export function queueDriverFor(config: Pick<AppConfig, 'redisUrl'>): QueueDriver {
  return config.redisUrl ? { name: 'bullmq', redisUrl: config.redisUrl } : { name: 'pg-boss' };
}

/** The chosen driver in words, for the start-up lines. */
export function describeQueue(config: Pick<AppConfig, 'redisUrl'>): string {
  const driver = queueDriverFor(config);
  return driver.name === 'bullmq'
    ? `bullmq at ${new URL(driver.redisUrl).host}`
    : 'pg-boss (embedded, PostgreSQL schema pgboss)';
}

/** The queue the config picks, ready to use; close() releases all it holds. QueueModule provides it to Nest. */
export async function openJobQueue(
  config: Pick<AppConfig, 'redisUrl' | 'databaseUrl' | 'queue'>,
  onError: (error: Error) => void = () => undefined,
): Promise<JobQueue> {
  const driver = queueDriverFor(config);
  if (driver.name === 'bullmq') return BullmqJobQueue.open(driver.redisUrl, config.queue);
  const queue = new PgBossJobQueue({ databaseUrl: config.databaseUrl, queueName: config.queue.name, onError });
  await queue.start();
  return queue;
}
