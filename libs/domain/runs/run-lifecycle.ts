import { Injectable } from '@nestjs/common';

import { type Prisma, type Run as RunRow, RunEventsRepository } from '#libs/core/db';
import type { TrainRunJob } from '#libs/core/queue';

import { type EpochRecord, type LostRun, type NewRun, RunLifecycleRepository } from './run-lifecycle.repository.js';
import type { RunFinishEvent } from './run-transitions.js';

/**
 * The one owner of a run's status. The API (start, cancel), the sweep scheduler (trials), the worker (claim,
 * heartbeat, progress, hand back, finish) and the reconciler (lost workers) all change a run through here, each
 * change is a row of RUN_TRANSITIONS, and subscribers hear of it through the run events.
 */
@Injectable()
export class RunLifecycle {
  constructor(
    private readonly runs: RunLifecycleRepository,
    private readonly events: RunEventsRepository,
  ) {}

  /** A new QUEUED run; `db` is the caller's transaction when the run is one of its writes (a sweep's trial). */
  create(run: NewRun, db?: Prisma.TransactionClient): Promise<RunRow> {
    return this.runs.create(run, db);
  }

  /** A sweep's trial that is FAILED from the start: its values make no valid model. */
  reject(run: NewRun, error: string, db?: Prisma.TransactionClient): Promise<RunRow> {
    return this.runs.reject(run, error, db);
  }

  /** Cancels a run that has not started; false when a worker took it first. */
  cancelQueued(id: string): Promise<boolean> {
    return this.runs.cancelQueued(id, 'cancelled before it started');
  }

  /** Asks the worker training the run to stop; it checks the flag between batches. False when it is not running. */
  requestCancel(id: string): Promise<boolean> {
    return this.runs.requestCancel(id);
  }

  /** The sweep ended: its queued trials are cancelled and its running ones asked to stop, in its transaction. */
  endSweepTrials(sweepId: string, db: Prisma.TransactionClient): Promise<void> {
    return this.runs.endSweepTrials(sweepId, 'the sweep ended', db);
  }

  /** Atomically takes a QUEUED run of this attempt; null when it was cancelled, taken or superseded. */
  async claim(runId: string, attempt: number, workerId: string, device: string): Promise<RunRow | null> {
    if (!(await this.runs.claim(runId, attempt, workerId, device))) return null;
    await this.events.publish({ type: 'run', runId });
    return this.runs.findById(runId);
  }

  /** Heartbeat; returns whether the run should stop (cancel requested, or no longer this worker's). */
  async heartbeat(runId: string, workerId: string): Promise<{ stop: boolean }> {
    const state = await this.runs.heartbeat(runId, workerId);
    return { stop: state === null || state.cancelRequested };
  }

  savePreprocessing(runId: string, workerId: string, preprocessing: unknown): Promise<void> {
    return this.runs.savePreprocessing(runId, workerId, preprocessing);
  }

  /**
   * Rewinds a resumed run to the checkpoint it restarts from: the points of epochs after it are
   * removed (they are trained again), so every step of the final series is there exactly once.
   */
  rewindTo(runId: string, workerId: string, epoch: number): Promise<void> {
    return this.runs.rewindTo(runId, workerId, epoch);
  }

  /** One epoch's progress, points and checkpoint; returns whether the run should stop. */
  async recordEpoch(record: EpochRecord): Promise<{ stop: boolean }> {
    const now = new Date();
    const names = Object.keys(record.metrics);
    const values = names.map((name) => record.metrics[name]);
    const state = await this.runs.recordEpoch(record, names, values, now);
    const timestamp = now.toISOString();
    await this.events.publish({
      type: 'metrics',
      runId: record.runId,
      points: names.map((name, index) => ({
        name,
        step: record.epoch,
        epoch: record.epoch,
        value: values[index],
        timestamp,
      })),
    });
    await this.events.publish({ type: 'run', runId: record.runId });
    return { stop: state === null || state.cancelRequested };
  }

  /**
   * A worker stopping (SIGTERM) saves the weights it has (the epoch it was in is not reported)
   * and returns the run to the queue as it is: a graceful stop is not a loss, so the attempt stays.
   */
  async handBack(...args: Parameters<RunLifecycleRepository['handBack']>): Promise<boolean> {
    const handed = await this.runs.handBack(...args);
    const [runId] = args;
    if (handed) await this.events.publish({ type: 'run', runId });
    return handed;
  }

  /** The worker ends its run; a run no longer its own (handed back, re-queued) is left as it is. */
  async finish(runId: string, workerId: string, event: RunFinishEvent, error: string | null = null): Promise<void> {
    await this.runs.finish(runId, workerId, event, error);
    await this.events.publish({ type: 'run', runId });
  }

  /** Runs whose worker stopped beating: re-queued with attempt + 1, or failed after `maxAttempts`. */
  async reclaimLost(timeoutMs: number, maxAttempts: number): Promise<LostRun[]> {
    const lost = await this.runs.reclaimLost(timeoutMs, maxAttempts);
    for (const run of lost) await this.events.publish({ type: 'run', runId: run.id });
    return lost;
  }

  /** The jobs the queue should hold: one per QUEUED run, oldest first. */
  queuedJobs(): Promise<TrainRunJob[]> {
    return this.runs.queuedJobs();
  }
}
