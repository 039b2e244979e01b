import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { AppConfig } from '#libs/core/config';
import { BullmqJobQueue } from './bullmq-job-queue.js';
import { JOB_QUEUE, type JobQueue } from './job-queue.port.js';
import { PgBossJobQueue } from './pgboss-job-queue.js';

/** Which driver a config picks: BullMQ when REDIS_URL is set, else pg-boss on the service's PostgreSQL. */
export function queueDriverFor(config: Pick<AppConfig, 'redisUrl'>): 'bullmq' | 'pg-boss' {
  return config.redisUrl ? 'bullmq' : 'pg-boss';
}

@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(@Inject(JOB_QUEUE) private readonly queue: JobQueue) {}

  static register(config: AppConfig): DynamicModule {
    const redisUrl = config.redisUrl;
    if (!redisUrl) {
      const logger = new Logger('PgBossJobQueue');
      return {
        module: QueueModule,
        providers: [
          {
            provide: JOB_QUEUE,
            useFactory: async () => {
              const queue = new PgBossJobQueue({
                databaseUrl: config.databaseUrl,
                queueName: config.queue.name,
                onError: (error) => logger.warn(error.message),
              });
              await queue.start();
              return queue;
            },
          },
        ],
        exports: [JOB_QUEUE],
      };
    }
    return {
      module: QueueModule,
      imports: [
        BullModule.forRoot({
          connection: new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true }),
          prefix: config.queue.prefix,
        }),
        BullModule.registerQueue({ name: config.queue.name }),
      ],
      providers: [
        {
          provide: JOB_QUEUE,
          inject: [getQueueToken(config.queue.name)],
          useFactory: (queue: Queue) => new BullmqJobQueue(queue, redisUrl),
        },
      ],
      exports: [JOB_QUEUE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.stopConsuming();
    // BullModule closes its own queue; the pg-boss driver is ours to close.
    if (this.queue instanceof PgBossJobQueue) await this.queue.close();
  }
}
