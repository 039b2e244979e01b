import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Run as RunRow } from '#libs/core/db';
import { type CreateSweepInput, trialHistory } from '#libs/domain/sweeps';
import type { TrainingConfig } from '#libs/pure/training';

import { MediumDb } from './medium-db.js';

/** The iris MLP (4 inputs, 3 classes) with 64 hidden units has 515 parameters; with 4,096 it has 32,771. */
const MAX_MODEL_PARAMS = 1_000;

describe('the sweep scheduler on PostgreSQL', () => {
  let db: MediumDb;
  let seed: { datasetId: string; modelId: string };

  beforeAll(async () => {
    db = await MediumDb.create({ MAX_MODEL_PARAMS: String(MAX_MODEL_PARAMS) });
    seed = await db.seedIris();
  });
  afterAll(() => db?.close());

  const sweepInput = (overrides: Partial<CreateSweepInput> = {}): CreateSweepInput => ({
    name: 'iris',
    datasetId: seed.datasetId,
    modelId: seed.modelId,
    strategy: 'RANDOM',
    searchSpace: { hidden: { type: 'choice', values: [4, 8, 16] }, lr: { type: 'loguniform', min: 0.001, max: 0.1 } },
    objective: { metric: 'val_loss', goal: 'MINIMIZE' },
    maxTrials: 4,
    parallelism: 2,
    training: { target: 'Species', epochs: 3 },
    seed: 5,
    ...overrides,
  });

  const trials = (sweepId: string) => db.prisma.run.findMany({ where: { sweepId }, orderBy: { trialIndex: 'asc' } });
  const sweepStatus = async (sweepId: string) =>
    (await db.prisma.sweep.findUniqueOrThrow({ where: { id: sweepId } })).status;

  /**
   * One trial through the worker's path in training.processor.ts, with the epochs' losses given instead of trained:
   * claim, one record per epoch (asking the sweep's pruning rule after each), finish, and the sweep's next ask.
   */
  async function work(
    run: RunRow,
    losses: number[],
    end: 'succeed' | 'fail' = 'succeed',
  ): Promise<'succeed' | 'prune' | 'fail'> {
    const claimed = await db.lifecycle.claim(run.id, run.attempt, 'worker-1', 'cpu');
    if (!claimed) throw new Error(`trial ${run.trialIndex} could not be claimed`);
    const training = claimed.training as unknown as TrainingConfig;
    let outcome: 'succeed' | 'prune' | 'fail' = end;
    for (const [index, valLoss] of losses.entries()) {
      const epoch = index + 1;
      await db.lifecycle.recordEpoch({
        runId: run.id,
        workerId: 'worker-1',
        epoch,
        metrics: { loss: valLoss, val_loss: valLoss },
        training,
      });
      if (await db.scheduler.shouldPruneTrial(run.id, run.sweepId!, epoch)) {
        outcome = 'prune';
        break;
      }
    }
    await db.lifecycle.finish(run.id, 'worker-1', outcome, outcome === 'fail' ? 'the loss became NaN' : null);
    await db.scheduler.advance(run.sweepId!);
    return outcome;
  }

  it('asks `parallelism` trials, queues them, and asks no more however many processes advance at once', async () => {
    const sweep = await db.sweeps.create(sweepInput());
    const asked = await trials(sweep.id);
    expect(asked.map((run) => [run.trialIndex, run.status])).toEqual([
      [0, 'QUEUED'],
      [1, 'QUEUED'],
    ]);
    const jobs = await db.waitingJobs();
    for (const run of asked) expect(jobs).toContainEqual({ runId: run.id, attempt: 1 });

    await Promise.all([db.scheduler.advance(sweep.id), db.scheduler.advance(sweep.id), db.scheduler.advance(sweep.id)]);
    expect(await trials(sweep.id)).toHaveLength(2);
  });

  it('asks the next trial as each ends, until maxTrials, then succeeds with the best trial persisted', async () => {
    const sweep = await db.sweeps.create(sweepInput());
    const losses = [
      [0.9, 0.6, 0.4],
      [0.8, 0.5, 0.3],
      [0.7, 0.5, 0.2],
      [1.0, 0.9, 0.8],
    ];
    for (let done = 0; done < 4; done++) {
      const next = (await trials(sweep.id)).find((run) => run.status === 'QUEUED');
      expect(next?.trialIndex).toBe(done);
      await work(next!, losses[done]);
      expect((await trials(sweep.id)).filter((run) => run.status === 'QUEUED')).toHaveLength(Math.min(2, 3 - done));
    }
    expect(await sweepStatus(sweep.id)).toBe('SUCCEEDED');
    const all = await trials(sweep.id);
    expect(all.map((run) => run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect((await db.sweeps.bestRun(sweep))?.trialIndex).toBe(2);
  });

  it('fails a trial whose values make no valid model, without a worker, and goes on', async () => {
    const sweep = await db.sweeps.create(
      sweepInput({
        strategy: 'GRID',
        searchSpace: { hidden: { type: 'choice', values: [8, 4096] }, lr: { type: 'choice', values: [0.01] } },
        maxTrials: 2,
      }),
    );
    const [valid, rejected] = await trials(sweep.id);
    expect(valid).toMatchObject({ status: 'QUEUED', hyperparameters: { hidden: 8 } });
    expect(rejected).toMatchObject({ status: 'FAILED', hyperparameters: { hidden: 4096 } });
    expect(rejected.error).toBe(
      `the model would have 32771 parameters; at most ${MAX_MODEL_PARAMS} are allowed (MAX_MODEL_PARAMS)`,
    );
    expect(await db.waitingJobs()).not.toContainEqual({ runId: rejected.id, attempt: 1 });
    await work(valid, [0.5, 0.4, 0.3]);
    expect(await sweepStatus(sweep.id)).toBe('SUCCEEDED');
  });

  it('persists a pruning decision: the trial worse than the median is PRUNED and the sweep asks on', async () => {
    const sweep = await db.sweeps.create(
      sweepInput({ parallelism: 1, earlyStopping: { rule: 'median', minTrials: 2, warmupEpochs: 1 } }),
    );
    const next = async () => (await trials(sweep.id)).find((run) => run.status === 'QUEUED')!;
    expect(await work(await next(), [0.5, 0.3, 0.2])).toBe('succeed');
    expect(await work(await next(), [0.6, 0.4, 0.3])).toBe('succeed');
    const bad = await next();
    expect(await work(bad, [2.0, 1.9, 1.8])).toBe('prune');
    const pruned = await db.run(bad.id);
    expect(pruned).toMatchObject({ status: 'PRUNED', epochsCompleted: 2, error: null });
    expect(await db.prisma.metricPoint.count({ where: { runId: bad.id, name: 'val_loss' } })).toBe(2);
    const history = trialHistory(await trials(sweep.id), 'val_loss');
    expect(history.map((trial) => trial.state)).toEqual(['complete', 'complete', 'pruned', 'pending']);
  });

  it('fails a sweep whose first trials all fail, cancelling its queued trial, stopping its running one', async () => {
    const sweep = await db.sweeps.create(sweepInput({ maxTrials: 8, parallelism: 3 }));
    const trial = async (index: number) => (await trials(sweep.id)).find((run) => run.trialIndex === index)!;
    for (let index = 0; index < 4; index++) await work(await trial(index), [], 'fail');
    // Trials 5 and 6 are queued by now; a worker takes trial 5 before trial 4 fails.
    const running = (await db.lifecycle.claim((await trial(5)).id, 1, 'worker-2', 'cpu'))!;
    const queued = await trial(6);
    await work(await trial(4), [], 'fail');

    const sweepRow = await db.prisma.sweep.findUniqueOrThrow({ where: { id: sweep.id } });
    expect(sweepRow.status).toBe('FAILED');
    expect(sweepRow.error).toBe('the first 5 trial(s) all failed; the first said: the loss became NaN');
    expect(await db.run(running.id)).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    expect(await db.lifecycle.heartbeat(running.id, 'worker-2')).toEqual({ stop: true });
    expect(await db.run(queued.id)).toMatchObject({ status: 'CANCELLED', error: 'the sweep ended' });
    expect(await trials(sweep.id)).toHaveLength(7);
  });

  it('cancels a sweep: its queued trials CANCELLED and off the queue, its running ones asked to stop', async () => {
    const sweep = await db.sweeps.create(sweepInput());
    const [first, second] = await trials(sweep.id);
    await db.lifecycle.claim(first.id, 1, 'worker-1', 'cpu');
    await db.sweeps.cancel(sweep.id);
    expect(await sweepStatus(sweep.id)).toBe('CANCELLED');
    expect(await db.run(first.id)).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    expect(await db.run(second.id)).toMatchObject({ status: 'CANCELLED', error: 'the sweep ended' });
    expect(await db.waitingJobs()).not.toContainEqual({ runId: second.id, attempt: 1 });
    await db.lifecycle.finish(first.id, 'worker-1', 'stop', 'cancelled after 0 epoch(s)');
    await db.scheduler.advance(sweep.id);
    expect(await trials(sweep.id)).toHaveLength(2);
  });

  it('asks for the next trial when cancelRun cancels a queued trial', async () => {
    const sweep = await db.sweeps.create(sweepInput());
    const [, second] = await trials(sweep.id);
    await db.runs.cancel(second.id);
    const after = await trials(sweep.id);
    expect(after.map((run) => [run.trialIndex, run.status])).toEqual([
      [0, 'QUEUED'],
      [1, 'CANCELLED'],
      [2, 'QUEUED'],
    ]);
  });
});
