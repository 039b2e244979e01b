import { randomUUID } from 'node:crypto';

import { Inject, Injectable, Logger } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { Prisma, PrismaService, RunEventsRepository, type Sweep as SweepRow } from '#libs/core/db';
import { JOB_QUEUE, type JobQueue, type TrainRunJob } from '#libs/core/queue';
import { RunLifecycle, SweepAdvancer } from '#libs/domain/runs';
import type { ColumnStats } from '#libs/pure/data';
import { type SearchSpace, type Strategy, suggest, suggestOptions, tpeWindow } from '#libs/pure/search';
import { planRun, SpecError } from '#libs/pure/training';

import { trialRecord } from './sweep-history.js';
import {
  allTrialsFailed,
  firstTrialError,
  keepTrial,
  progressOf,
  pruneCheck,
  settleTrials,
  suggestTpeFromStore,
  type SweepKeys,
  trialProgress,
  trialRows,
} from './sweep-trials.js';

/** The strategies whose suggestions depend on the trials so far. */
const HISTORY_STRATEGIES: ReadonlySet<Strategy> = new Set(['TPE', 'GP']);

/** A sweep whose first this-many trials all fail is failed: its setup, not its luck, is at fault. */
export const FAILED_TRIALS_TO_GIVE_UP = 5;

/**
 * Drives sweeps from their state in PostgreSQL. Every decision (ask a trial, finish the sweep)
 * happens under a per-sweep advisory lock inside one transaction, and a trial's index is unique
 * per sweep, so any number of API and worker processes may call `advance` at any time: after a
 * crash the next call simply continues, never asking a trial twice nor skipping one.
 */
@Injectable()
export class SweepScheduler implements SweepAdvancer {
  private readonly logger = new Logger(SweepScheduler.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly events: RunEventsRepository,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly lifecycle: RunLifecycle,
  ) {}

  async advance(sweepId: string): Promise<void> {
    const jobs = await this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${sweepId}))`;
        const sweep = await tx.sweep.findUnique({ where: { id: sweepId }, include: { dataset: true, model: true } });
        if (!sweep) return [];
        // Also once the sweep has ended: its last trials finish after a cancel, and settle then.
        await settleTrials(tx, sweep);
        if (sweep.status !== 'RUNNING') return [];
        const space = sweep.searchSpace as unknown as SearchSpace;
        const options = suggestOptions(sweep.strategy, sweep.options);
        // A TPE sweep stored with a bounded g(x) depends on a window of its trials that does not grow with it.
        const window = sweep.strategy === 'TPE' ? tpeWindow(options.tpe, sweep.maxTrials) : null;
        // Only the model-based strategies fit the trials so far; the others need their number alone.
        const rows = HISTORY_STRATEGIES.has(sweep.strategy) && !window ? await trialRows(tx, sweepId) : null;
        const progress = rows
          ? progressOf(rows, FAILED_TRIALS_TO_GIVE_UP)
          : await trialProgress(tx, sweepId, FAILED_TRIALS_TO_GIVE_UP);
        const history = rows?.map((row) => trialRecord(row, space)) ?? null;
        const { first } = progress;
        const firstFailed = first.length > 0 && first.every((outcome) => outcome === 'FAILED');
        if (
          (first.length === Math.min(FAILED_TRIALS_TO_GIVE_UP, sweep.maxTrials) && firstFailed) ||
          (progress.asked >= sweep.maxTrials && (await allTrialsFailed(tx, sweepId)))
        ) {
          const said = await firstTrialError(tx, sweepId);
          await this.stopTrials(tx, sweep);
          await tx.sweep.update({
            where: { id: sweepId },
            data: {
              status: 'FAILED',
              finishedAt: new Date(),
              error: `the first ${first.length} trial(s) all failed; the first said: ${said ?? 'no error recorded'}`,
            },
          });
          return [];
        }

        let active = progress.active;
        let asked = progress.asked;
        let exhausted = false;
        const jobs: TrainRunJob[] = [];
        while (active < sweep.parallelism && asked < sweep.maxTrials) {
          const context = {
            space,
            goal: sweep.goal,
            seed: sweep.seed,
            trialIndex: asked,
            maxTrials: sweep.maxTrials,
            ...options,
          };
          // The window is read again for each trial asked: it holds the ones this call has asked so far.
          const params = window
            ? await suggestTpeFromStore(tx, context, sweepId, window)
            : suggest({ ...context, strategy: sweep.strategy, history: history ?? [] });
          if (!params) {
            exhausted = true;
            break;
          }
          const trial = {
            id: randomUUID(),
            datasetId: sweep.datasetId,
            modelId: sweep.modelId,
            sweepId,
            trialIndex: asked,
            hyperparameters: params as Prisma.InputJsonValue,
          };
          try {
            const plan = planRun(
              sweep.model.spec,
              params,
              sweep.training,
              sweep.dataset.columns as unknown as ColumnStats[],
              sweep.seed,
              this.config.limits.maxModelParams,
            );
            await this.lifecycle.create({ ...trial, training: plan.training as unknown as Prisma.InputJsonValue }, tx);
            await keepTrial(tx, { sweepId, trialIndex: asked, runId: trial.id, space, params, failed: false });
            jobs.push({ runId: trial.id, attempt: 1 });
            history?.push({ index: asked, params, state: 'pending' });
            active++;
          } catch (error) {
            if (!(error instanceof SpecError)) throw error;
            // These values make no valid model (say, a kernel larger than its input): the trial fails, the sweep goes
            // on.
            await this.lifecycle.reject(
              { ...trial, training: sweep.training as Prisma.InputJsonValue },
              error.message,
              tx,
            );
            await keepTrial(tx, { sweepId, trialIndex: asked, runId: trial.id, space, params, failed: true });
            history?.push({ index: asked, params, state: 'failed' });
          }
          asked++;
        }
        if (active === 0 && (asked >= sweep.maxTrials || exhausted)) {
          await tx.sweep.update({ where: { id: sweepId }, data: { status: 'SUCCEEDED', finishedAt: new Date() } });
        }
        return jobs;
      },
      { timeout: 30_000 },
    );
    for (const job of jobs) {
      await this.queue
        .enqueue(job)
        .catch((error: Error) => this.logger.warn(`trial run ${job.runId} waits for the reconciler: ${error.message}`));
      await this.events.publish({ type: 'run', runId: job.runId });
    }
  }

  /** Ends the sweep's trials through the run lifecycle (queued ones cancelled, running ones asked to stop), then
   * settles them in the trial store. */
  private async stopTrials(tx: Prisma.TransactionClient, sweep: SweepKeys): Promise<void> {
    await this.lifecycle.endSweepTrials(sweep.id, tx);
    await settleTrials(tx, sweep);
  }

  async cancel(sweepId: string): Promise<SweepRow | null> {
    const cancelled = await this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${sweepId}))`;
      const sweep = await tx.sweep.findUnique({ where: { id: sweepId } });
      if (!sweep || sweep.status !== 'RUNNING') return sweep;
      const queued = await tx.run.findMany({
        where: { sweepId, status: 'QUEUED' },
        select: { id: true, attempt: true },
      });
      await this.stopTrials(tx, sweep);
      const updated = await tx.sweep.update({
        where: { id: sweepId },
        data: { status: 'CANCELLED', finishedAt: new Date() },
      });
      for (const run of queued) await this.queue.remove({ runId: run.id, attempt: run.attempt }).catch(() => undefined);
      return updated;
    });
    return cancelled;
  }

  /**
   * Whether the sweep's early-stopping rule prunes this trial after `epoch`; call it after each epoch the trial
   * records. It reads the trial's own series and a summary of the others that does not grow with the sweep
   * (sweep-trials.ts): the sweep's history is never read per epoch.
   */
  shouldPruneTrial(runId: string, sweepId: string, epoch: number): Promise<boolean> {
    return pruneCheck(this.prisma, runId, sweepId, epoch);
  }

  runningSweepIds(): Promise<string[]> {
    return this.prisma.sweep
      .findMany({ where: { status: 'RUNNING' }, select: { id: true } })
      .then((rows) => rows.map((row) => row.id));
  }
}
