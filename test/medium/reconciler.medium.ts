import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ReconcilerService } from '../../apps/worker/src/reconciler/reconciler.service.js';
import { MediumDb } from './medium-db.js';

const HOUR_AGO = () => new Date(Date.now() - 3_600_000);

describe('the reconciler on PostgreSQL', () => {
  let db: MediumDb;
  let seed: { datasetId: string; modelId: string };
  let reconciler: ReconcilerService;

  beforeAll(async () => {
    db = await MediumDb.create({ MAX_ATTEMPTS: '2', WORKER_HEARTBEAT_TIMEOUT: '60000' });
    seed = await db.seedIris();
    reconciler = new ReconcilerService(db.lifecycle, db.scheduler, db.queue, db.config);
  });
  afterAll(() => db?.close());

  it('re-queues a run whose worker stopped beating, fails it after MAX_ATTEMPTS, leaves a live one', async () => {
    const lost = await db.runIn('RUNNING', seed, { heartbeatAt: HOUR_AGO() });
    const lostTwice = await db.runIn('RUNNING', seed, { heartbeatAt: HOUR_AGO(), attempt: 2 });
    const live = await db.runIn('RUNNING', seed, { heartbeatAt: new Date() });

    expect(await reconciler.reconcile()).toEqual({ requeued: 1, failed: 1, enqueued: 1 });
    expect(await db.run(lost.id)).toMatchObject({ status: 'QUEUED', attempt: 2, workerId: null, finishedAt: null });
    expect(await db.run(lostTwice.id)).toMatchObject({
      status: 'FAILED',
      attempt: 2,
      workerId: null,
      error: 'the worker training this run was lost 2 time(s) (no heartbeat for 60 s); MAX_ATTEMPTS reached',
    });
    expect(await db.run(live.id)).toEqual(live);
    expect(await db.waitingJobs()).toEqual([{ runId: lost.id, attempt: 2 }]);

    // The database, not the queue, is the truth: the next pass enqueues the same job, which the queue keeps once.
    expect(await reconciler.reconcile()).toEqual({ requeued: 0, failed: 0, enqueued: 1 });
    expect(await db.waitingJobs()).toEqual([{ runId: lost.id, attempt: 2 }]);
    expect(await db.lifecycle.claim(lost.id, 1, 'worker-1', 'cpu')).toBeNull();
    expect(await db.lifecycle.claim(lost.id, 2, 'worker-2', 'cpu')).toMatchObject({ status: 'RUNNING', attempt: 2 });
  });

  it('takes each lost run once when several reconcilers run at once', async () => {
    const lost = await Promise.all([1, 2, 3].map(() => db.runIn('RUNNING', seed, { heartbeatAt: HOUR_AGO() })));
    const results = await Promise.all([reconciler.reconcile(), reconciler.reconcile(), reconciler.reconcile()]);
    expect(results.reduce((sum, result) => sum + result.requeued, 0)).toBe(3);
    for (const run of lost) expect(await db.run(run.id)).toMatchObject({ status: 'QUEUED', attempt: 2 });
  });

  it('asks a running sweep for the trial a lost process never asked for', async () => {
    const sweep = await db.sweeps.create({
      name: 'iris',
      datasetId: seed.datasetId,
      modelId: seed.modelId,
      strategy: 'RANDOM',
      searchSpace: { hidden: { type: 'choice', values: [4, 8] }, lr: { type: 'loguniform', min: 0.001, max: 0.1 } },
      objective: { metric: 'val_loss', goal: 'MINIMIZE' },
      maxTrials: 2,
      parallelism: 1,
      training: { target: 'Species', epochs: 1 },
      seed: 3,
    });
    const [first] = await db.prisma.run.findMany({ where: { sweepId: sweep.id } });
    await db.lifecycle.claim(first.id, 1, 'worker-1', 'cpu');
    // The worker's process ends between the trial's finish and its sweep's advance.
    await db.lifecycle.finish(first.id, 'worker-1', 'succeed');
    expect(await db.prisma.run.count({ where: { sweepId: sweep.id } })).toBe(1);

    await reconciler.reconcile();
    const trials = await db.prisma.run.findMany({ where: { sweepId: sweep.id }, orderBy: { trialIndex: 'asc' } });
    expect(trials.map((run) => [run.trialIndex, run.status])).toEqual([
      [0, 'SUCCEEDED'],
      [1, 'QUEUED'],
    ]);
    expect(await db.waitingJobs()).toContainEqual({ runId: trials[1].id, attempt: 1 });
  });
});
