import { type DynamicModule, Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';

import type { AppConfig } from '#libs/core/config';

import { JOB_QUEUE, type JobQueue } from './job-queue.port.js';
import { openJobQueue } from './queue-driver.js';

/** Provides JOB_QUEUE, the driver the config picks (queueDriverFor), and closes it when the application stops. */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(@Inject(JOB_QUEUE) private readonly queue: JobQueue) {}

  static register(config: AppConfig): DynamicModule {
    const logger = new Logger('JobQueue');
    const open = () => openJobQueue(config, (error) => logger.warn(error.message));
    return {
      module: QueueModule,
      providers: [{ provide: JOB_QUEUE, useFactory: open }],
      exports: [JOB_QUEUE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
