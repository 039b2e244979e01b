import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import type { ColumnStats } from '#libs/pure/data';
import { Prisma, PrismaService, RunEventsRepository, type Sweep as SweepRow } from '#libs/core/db';
import { JOB_QUEUE, type JobQueue, type TrainRunJob } from '#libs/core/queue';
import { RunLifecycle, SweepAdvancer } from '#libs/domain/runs';
import { type EarlyStoppingRule, type SearchSpace, shouldPrune, suggest, suggestOptions } from '#libs/pure/search';
import { SpecError, type TrainingConfig, planRun } from '#libs/pure/training';
import { type TrialRunRow, trialHistory } from './sweep-history.js';

/** What the pruning rules read of each trial: its state, its objective, and its value at the epoch asked about. */
interface PruneTrialRow {
  id: string;
  status: TrialRunRow['status'];
  trialIndex: number | null;
  objective: unknown;
  value: number | null;
}

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
        if (!sweep || sweep.status !== 'RUNNING') return [];
        const runs = await tx.run.findMany({
          where: { sweepId },
          select: { id: true, status: true, trialIndex: true, hyperparameters: true, summary: true, error: true, attempt: true },
          orderBy: { trialIndex: 'asc' },
        });
        const first = runs.filter((run) => run.trialIndex !== null && run.trialIndex < FAILED_TRIALS_TO_GIVE_UP);
        const allFailed = (list: typeof runs) => list.length > 0 && list.every((run) => run.status === 'FAILED');
        if ((first.length === Math.min(FAILED_TRIALS_TO_GIVE_UP, sweep.maxTrials) && allFailed(first)) || (runs.length >= sweep.maxTrials && allFailed(runs))) {
          await this.lifecycle.endSweepTrials(sweepId, tx);
          await tx.sweep.update({
            where: { id: sweepId },
            data: { status: 'FAILED', finishedAt: new Date(), error: `the first ${first.length} trial(s) all failed; the first said: ${first[0].error ?? 'no error recorded'}` },
          });
          return [];
        }

        const history = trialHistory(runs, sweep.metric);
        let active = history.filter((trial) => trial.state === 'pending').length;
        let asked = runs.length;
        let exhausted = false;
        const jobs: TrainRunJob[] = [];
        while (active < sweep.parallelism && asked < sweep.maxTrials) {
          const params = suggest({
            strategy: sweep.strategy,
            space: sweep.searchSpace as unknown as SearchSpace,
            goal: sweep.goal,
            seed: sweep.seed,
            trialIndex: asked,
            history,
            maxTrials: sweep.maxTrials,
            ...suggestOptions(sweep.strategy, sweep.options),
          });
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
            const plan = planRun(sweep.model.spec, params, sweep.training, sweep.dataset.columns as unknown as ColumnStats[], sweep.seed, this.config.limits.maxModelParams);
            await this.lifecycle.create({ ...trial, training: plan.training as unknown as Prisma.InputJsonValue }, tx);
            jobs.push({ runId: trial.id, attempt: 1 });
            history.push({ index: asked, params, state: 'pending' });
            active++;
          } catch (error) {
            if (!(error instanceof SpecError)) throw error;
            // These values make no valid model (say, a kernel larger than its input): the trial fails, the sweep goes on.
            await this.lifecycle.reject({ ...trial, training: sweep.training as Prisma.InputJsonValue }, error.message, tx);
            history.push({ index: asked, params, state: 'failed' });
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
      await this.queue.enqueue(job).catch((error: Error) => this.logger.warn(`trial run ${job.runId} waits for the reconciler: ${error.message}`));
      await this.events.publish({ type: 'run', runId: job.runId });
    }
  }

  async cancel(sweepId: string): Promise<SweepRow | null> {
    const cancelled = await this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${sweepId}))`;
      const sweep = await tx.sweep.findUnique({ where: { id: sweepId } });
      if (!sweep || sweep.status !== 'RUNNING') return sweep;
      const queued = await tx.run.findMany({ where: { sweepId, status: 'QUEUED' }, select: { id: true, attempt: true } });
      await this.lifecycle.endSweepTrials(sweepId, tx);
      const updated = await tx.sweep.update({ where: { id: sweepId }, data: { status: 'CANCELLED', finishedAt: new Date() } });
      for (const run of queued) await this.queue.remove({ runId: run.id, attempt: run.attempt }).catch(() => undefined);
      return updated;
    });
    return cancelled;
  }

  /**
   * Whether the sweep's early-stopping rule prunes this trial after `epoch`. The rules compare values at
   * this one epoch, so that is all that is read: each trial's state and its value at `epoch` (one probe of
   * the (run_id, name, step) key per trial, no JSON but the objective), and this trial's own series. The
   * sweep's whole history (every point of every trial) is never read per epoch: at trial 5,000 that was
   * 5,000 × epochs points for each epoch of each trial.
   */
  async shouldPruneTrial(runId: string, sweepId: string, epoch: number): Promise<boolean> {
    const sweep = await this.prisma.sweep.findUnique({
      where: { id: sweepId },
      select: { earlyStopping: true, metric: true, goal: true },
    });
    if (!sweep || !sweep.earlyStopping) return false;
    const rule = sweep.earlyStopping as unknown as EarlyStoppingRule;
    const [trials, own] = await Promise.all([
      this.prisma.$queryRaw<PruneTrialRow[]>`
        SELECT r.id, r.status, r.trial_index AS "trialIndex", r.summary -> ${sweep.metric} AS objective, p.value
        FROM runs r
        LEFT JOIN metric_points p
          ON p.run_id = r.id AND p.name = ${sweep.metric} AND p.step = ${epoch} AND p.epoch = ${epoch}
        WHERE r.sweep_id = ${sweepId}::uuid`,
      this.prisma.metricPoint.findMany({
        where: { runId, name: sweep.metric, epoch: { lte: epoch } },
        select: { epoch: true, value: true },
      }),
    ]);
    const intermediates = new Map<string, Record<number, number>>();
    for (const trial of trials) if (trial.value !== null) intermediates.set(trial.id, { [epoch]: trial.value });
    const ownSeries = own.filter((point) => point.epoch !== null).map((point) => [point.epoch, point.value]);
    intermediates.set(runId, Object.fromEntries(ownSeries));
    const runs = trials.map((trial) => ({
      ...trial,
      hyperparameters: {},
      summary: { [sweep.metric]: trial.objective },
    }));
    const history = trialHistory(runs, sweep.metric, intermediates);
    const trialIndex = trials.find((trial) => trial.id === runId)?.trialIndex;
    const trial = history.find((record) => record.index === trialIndex);
    if (!trial || trial.intermediate?.[epoch] === undefined) return false;
    return shouldPrune(rule, { goal: sweep.goal, trial, epoch, history });
  }

  runningSweepIds(): Promise<string[]> {
    return this.prisma.sweep.findMany({ where: { status: 'RUNNING' }, select: { id: true } }).then((rows) => rows.map((row) => row.id));
  }

}
