import type { QueueDriver } from './queue-driver.js';

/** Jobs the workers run. The database holds the truth about each run; a job only says "look at run X". */
export enum JobName {
  TrainRun = 'train-run',
}

export interface TrainRunJob {
  runId: string;
  attempt: number;
}

export interface EnqueueOptions {
  /** Lower runs first, as in BullMQ. */
  priority?: number;
}

export type JobHandler = (job: TrainRunJob) => Promise<void>;

export interface QueueDepth {
  waiting: number;
  active: number;
}

/** The port every queue driver implements; one contract test runs against each. */
export interface JobQueue {
  readonly driver: QueueDriver['name'];
  /** Idempotent: the job id is the run id and attempt, so enqueueing twice queues once. */
  enqueue(job: TrainRunJob, options?: EnqueueOptions): Promise<void>;
  /** Removes a job that has not started; a no-op when it is gone or running. */
  remove(job: TrainRunJob): Promise<void>;
  consume(handler: JobHandler, concurrency: number): Promise<void>;
  /** Stops taking jobs and waits for the ones in hand to return. */
  stopConsuming(): Promise<void>;
  depth(): Promise<QueueDepth>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const JOB_QUEUE = Symbol('JOB_QUEUE');

export function jobId(job: TrainRunJob): string {
  return `${job.runId}_${job.attempt}`;
}
