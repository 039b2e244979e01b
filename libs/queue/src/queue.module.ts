import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { AppConfig } from '../../config/src/index.js';
import { BullmqJobQueue } from './bullmq-job-queue.js';
import { JOB_QUEUE, type JobQueue } from './job-queue.port.js';

@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(@Inject(JOB_QUEUE) private readonly queue: JobQueue) {}

  static register(config: AppConfig): DynamicModule {
    const redisUrl = config.redisUrl;
    if (!redisUrl) throw new Error('REDIS_URL is required by the BullMQ queue driver');
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
  }
}
