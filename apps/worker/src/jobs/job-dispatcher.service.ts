import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { JOB_QUEUE, type JobHandler, JobName, type JobQueue, type TrainRunJob } from '#libs/core/queue';

import { JOB_HANDLER } from './on-job.decorator.js';

/** Finds the @OnJob handlers, refuses to start when a job has none or two, then feeds them from the queue. */
@Injectable()
export class JobDispatcher {
  private readonly logger = new Logger(JobDispatcher.name);
  private handlers = new Map<JobName, JobHandler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  discover(): Map<JobName, JobHandler> {
    const handlers = new Map<JobName, JobHandler>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance);
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const name = this.reflector.get<JobName | undefined>(JOB_HANDLER, prototype[method]);
        if (!name) continue;
        if (handlers.has(name)) throw new Error(`job "${name}" has two handlers; each job must have exactly one`);
        handlers.set(name, (job) => (instance[method] as JobHandler).call(instance, job));
      }
    }
    for (const name of Object.values(JobName)) {
      if (!handlers.has(name)) throw new Error(`job "${name}" has no @OnJob handler`);
    }
    return handlers;
  }

  async start(): Promise<void> {
    this.handlers = this.discover();
    await this.queue.consume(
      (job: TrainRunJob) => this.handlers.get(JobName.TrainRun)!(job),
      this.config.worker.concurrency,
    );
    this.logger.log(`taking jobs with concurrency ${this.config.worker.concurrency} (${this.queue.driver})`);
  }

  stop(): Promise<void> {
    return this.queue.stopConsuming();
  }
}
