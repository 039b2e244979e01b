import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

import {
  type EnqueueOptions,
  type JobHandler,
  jobId,
  JobName,
  type JobQueue,
  type QueueDepth,
  type TrainRunJob,
} from './job-queue.port.js';

export class BullmqJobQueue implements JobQueue {
  readonly driver = 'bullmq';
  private worker: Worker | undefined;
  /** The connection open() made for the queue, ended by close(); a queue handed to the constructor is the caller's. */
  private ownConnection: Redis | undefined;

  constructor(
    private readonly queue: Queue,
    private readonly redisUrl: string,
  ) {}

  /** A queue on a connection of its own. */
  static open(redisUrl: string, options: { name: string; prefix: string }): BullmqJobQueue {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    const opened = new BullmqJobQueue(new Queue(options.name, { connection, prefix: options.prefix }), redisUrl);
    opened.ownConnection = connection;
    return opened;
  }

  async enqueue(job: TrainRunJob, options: EnqueueOptions = {}): Promise<void> {
    await this.queue.add(JobName.TrainRun, job, {
      jobId: jobId(job),
      priority: options.priority,
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  async remove(job: TrainRunJob): Promise<void> {
    const found = await this.queue.getJob(jobId(job));
    if (!found) return;
    const state = await found.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      await found.remove().catch(() => undefined);
    }
  }

  async consume(handler: JobHandler, concurrency: number): Promise<void> {
    this.worker = new Worker(this.queue.name, async (job) => handler(job.data as TrainRunJob), {
      connection: new Redis(this.redisUrl, { maxRetriesPerRequest: null }),
      prefix: this.queue.opts.prefix,
      concurrency,
      // A lost job is found by the reconciler from the database, which bumps the attempt;
      // BullMQ must not run the same attempt twice on its own.
      maxStalledCount: 0,
    });
    this.worker.on('error', () => undefined);
    await this.worker.waitUntilReady();
  }

  async stopConsuming(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
  }

  async depth(): Promise<QueueDepth> {
    const counts = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
      active: counts.active ?? 0,
    };
  }

  /** A connection of its own that fails fast, so /health answers 503 at once when Redis is gone. */
  private pingClient: Redis | undefined;

  async ping(): Promise<void> {
    this.pingClient ??= new Redis(this.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => 1000,
    });
    if (this.pingClient.status === 'wait') await this.pingClient.connect();
    await this.pingClient.ping();
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    this.pingClient?.disconnect();
    await this.queue.close();
    this.ownConnection?.disconnect();
  }
}
