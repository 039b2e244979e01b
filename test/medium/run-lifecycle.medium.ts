import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Run as RunRow, RunStatus } from '#libs/core/db';
import { AppError } from '#libs/core/errors';
import { nextStatus, RUN_TRANSITIONS, type RunLifecycleEvent, transitionOf } from '#libs/domain/runs';
import type { TrainingConfig } from '#libs/pure/training';

import { checkpointArtifacts, IRIS_TRAINING, MediumDb } from './medium-db.js';

const HOUR_AGO = () => new Date(Date.now() - 3_600_000);
const training = { checkpoint: { every: 1, keep: 1, monitor: 'val_loss', mode: 'min' } } as unknown as TrainingConfig;

let db: MediumDb;
let seed: { datasetId: string; modelId: string };

beforeAll(async () => {
  // Long enough that no run seeded with a fresh heartbeat goes stale while this file runs.
  db = await MediumDb.create({ WORKER_HEARTBEAT_TIMEOUT: '600000' });
  seed = await db.seedIris();
});
afterAll(() => db?.close());

describe('the run lifecycle on PostgreSQL', () => {
  const timeoutMs = () => db.config.worker.heartbeatTimeoutMs;
  const maxAttempts = () => db.config.worker.maxAttempts;

  /** Seeds a run in `status` that `event` could act on but for its status: worker-1's, the right attempt, stale. */
  function seedFor(status: RunStatus, event: RunLifecycleEvent) {
    const stale = event === 'requeue' || event === 'giveUp';
    return db.runIn(status, seed, {
      workerId: 'worker-1',
      heartbeatAt: stale ? HOUR_AGO() : new Date(),
      attempt: event === 'giveUp' ? maxAttempts() : 1,
    });
  }

  /** Does `event` to the run the way its one caller does (API, worker or reconciler). */
  async function perform(event: RunLifecycleEvent, run: RunRow): Promise<unknown> {
    switch (event) {
      case 'claim':
        return db.lifecycle.claim(run.id, run.attempt, 'worker-2', 'cpu');
      case 'heartbeat':
        return db.lifecycle.heartbeat(run.id, 'worker-1');
      case 'progress':
        return db.lifecycle.recordEpoch({
          runId: run.id,
          workerId: 'worker-1',
          epoch: 1,
          metrics: { loss: 0.5 },
          training,
        });
      case 'requestCancel':
        return db.lifecycle.requestCancel(run.id);
      case 'cancel':
        return db.lifecycle.cancelQueued(run.id);
      case 'handBack':
        return db.lifecycle.handBack(run.id, 'worker-1', 1, checkpointArtifacts([1, 2]), training);
      case 'requeue':
      case 'giveUp':
        return (await db.lifecycle.reclaimLost(timeoutMs(), maxAttempts())).filter((lost) => lost.id === run.id);
      case 'succeed':
      case 'prune':
      case 'stop':
      case 'fail':
        return db.lifecycle.finish(run.id, 'worker-1', event, event === 'fail' ? 'it broke' : null);
      default:
        throw new Error(`no way to perform "${event}" on an existing run`);
    }
  }

  const events = RUN_TRANSITIONS.map((transition) => transition.event).filter(
    (event) => transitionOf(event).from !== null,
  );
  const pairs = Object.values(RunStatus).flatMap((from) => events.map((event) => ({ from, event })));

  it.each(pairs.filter(({ from, event }) => nextStatus(from, event) === null))(
    'leaves a $from run as it is on $event',
    async ({ from, event }) => {
      const before = await seedFor(from, event);
      const result = await perform(event, before);
      expect(await db.run(before.id)).toEqual(before);
      expect(await db.prisma.metricPoint.count({ where: { runId: before.id } })).toBe(0);
      expect(await db.prisma.checkpoint.count({ where: { runId: before.id } })).toBe(0);
      if (event === 'claim') expect(result).toBeNull();
      if (event === 'heartbeat' || event === 'progress') expect(result).toEqual({ stop: true });
      if (event === 'requestCancel' || event === 'cancel' || event === 'handBack') expect(result).toBe(false);
      if (event === 'requeue' || event === 'giveUp') expect(result).toEqual([]);
    },
  );

  it.each(pairs.filter(({ from, event }) => nextStatus(from, event) !== null))(
    'moves a $from run on $event as the table says',
    async ({ from, event }) => {
      const before = await seedFor(from, event);
      const result = await perform(event, before);
      const after = await db.run(before.id);
      expect(after.status).toBe(nextStatus(from, event));
      switch (event) {
        case 'claim':
          expect(result).toMatchObject({ id: before.id, status: 'RUNNING', workerId: 'worker-2' });
          expect(after).toMatchObject({ workerId: 'worker-2', device: 'cpu', error: null, attempt: before.attempt });
          break;
        case 'heartbeat':
          expect(result).toEqual({ stop: false });
          expect(after.heartbeatAt!.getTime()).toBeGreaterThanOrEqual(before.heartbeatAt!.getTime());
          break;
        case 'progress':
          expect(result).toEqual({ stop: false });
          expect(after).toMatchObject({ epochsCompleted: 1, summary: { loss: 0.5 } });
          expect(await db.prisma.metricPoint.count({ where: { runId: before.id } })).toBe(1);
          break;
        case 'requestCancel':
          expect(result).toBe(true);
          expect(after.cancelRequested).toBe(true);
          expect(await db.lifecycle.heartbeat(before.id, 'worker-1')).toEqual({ stop: true });
          break;
        case 'handBack': {
          expect(result).toBe(true);
          expect(after).toMatchObject({ workerId: null, heartbeatAt: null, attempt: before.attempt, finishedAt: null });
          const [checkpoint] = await db.prisma.checkpoint.findMany({ where: { runId: before.id } });
          expect(checkpoint).toMatchObject({ epoch: 1, trainingState: { handedBack: true } });
          break;
        }
        case 'requeue':
          expect(result).toEqual([{ id: before.id, status: 'QUEUED', attempt: before.attempt + 1 }]);
          expect(after).toMatchObject({ attempt: before.attempt + 1, workerId: null, finishedAt: null });
          break;
        case 'giveUp':
          expect(result).toEqual([{ id: before.id, status: 'FAILED', attempt: maxAttempts() }]);
          expect(after.error).toBe(
            `the worker training this run was lost ${maxAttempts()} time(s) (no heartbeat for ` +
              `${timeoutMs() / 1000} s); MAX_ATTEMPTS reached`,
          );
          expect(after.finishedAt).not.toBeNull();
          break;
        case 'cancel':
          expect(result).toBe(true);
          expect(after).toMatchObject({ error: 'cancelled before it started' });
          expect(after.finishedAt).not.toBeNull();
          break;
        default:
          expect(after).toMatchObject({ workerId: 'worker-1', error: event === 'fail' ? 'it broke' : null });
          expect(after.finishedAt).not.toBeNull();
      }
    },
  );

  it('creates runs QUEUED, and a rejected sweep trial FAILED with its error', async () => {
    const base = { datasetId: seed.datasetId, modelId: seed.modelId, hyperparameters: {}, training: IRIS_TRAINING };
    const queued = await db.lifecycle.create({ id: randomUUID(), ...base });
    expect(queued).toMatchObject({ status: 'QUEUED', attempt: 1, finishedAt: null, workerId: null });
    const rejected = await db.lifecycle.reject({ id: randomUUID(), ...base }, 'no valid model');
    expect(rejected).toMatchObject({ status: 'FAILED', error: 'no valid model' });
    expect(rejected.finishedAt).not.toBeNull();
  });
});

describe('races on one run', () => {
  it('gives a queued run to exactly one of two workers claiming it at once', async () => {
    for (let round = 0; round < 10; round++) {
      const run = await db.runIn('QUEUED', seed);
      const claims = await Promise.all([
        db.lifecycle.claim(run.id, 1, 'worker-a', 'cpu'),
        db.lifecycle.claim(run.id, 1, 'worker-b', 'cpu'),
      ]);
      const won = claims.filter((claim) => claim !== null);
      expect(won).toHaveLength(1);
      expect((await db.run(run.id)).workerId).toBe(won[0]!.workerId);
    }
  });

  it('lets a cancel and a claim of a queued run race with exactly one winner', async () => {
    for (let round = 0; round < 10; round++) {
      const run = await db.runIn('QUEUED', seed);
      const [cancelled, claimed] = await Promise.all([
        db.lifecycle.cancelQueued(run.id),
        db.lifecycle.claim(run.id, 1, 'worker-a', 'cpu'),
      ]);
      expect(cancelled).toBe(claimed === null);
      expect((await db.run(run.id)).status).toBe(cancelled ? 'CANCELLED' : 'RUNNING');
    }
  });

  it('never lets a late worker overwrite a cancelled run, nor a cancel undo a finished one', async () => {
    const cancelled = await db.runIn('QUEUED', seed);
    expect(await db.lifecycle.cancelQueued(cancelled.id)).toBe(true);
    expect(await db.lifecycle.claim(cancelled.id, 1, 'worker-a', 'cpu')).toBeNull();
    await db.lifecycle.finish(cancelled.id, 'worker-1', 'succeed');
    expect(await db.run(cancelled.id)).toMatchObject({ status: 'CANCELLED', error: 'cancelled before it started' });

    for (let round = 0; round < 10; round++) {
      const running = await db.runIn('RUNNING', seed);
      const [requested] = await Promise.all([
        db.lifecycle.requestCancel(running.id),
        db.lifecycle.finish(running.id, 'worker-1', 'succeed'),
      ]);
      const after = await db.run(running.id);
      expect(after.status).toBe('SUCCEEDED');
      expect(after.cancelRequested).toBe(requested);
      expect(await db.lifecycle.cancelQueued(running.id)).toBe(false);
      expect(await db.lifecycle.requestCancel(running.id)).toBe(false);
      expect((await db.run(running.id)).status).toBe('SUCCEEDED');
    }
  });

  it('ignores a late heartbeat, epoch and finish after a hand-back, then serves the next worker', async () => {
    const run = await db.runIn('RUNNING', seed);
    expect(
      await db.lifecycle.recordEpoch({
        runId: run.id,
        workerId: 'worker-1',
        epoch: 1,
        metrics: { val_loss: 1 },
        training,
      }),
    ).toEqual({
      stop: false,
    });
    expect(await db.lifecycle.handBack(run.id, 'worker-1', 1, checkpointArtifacts([1]), training)).toBe(true);
    const handedBack = await db.run(run.id);
    expect(await db.lifecycle.heartbeat(run.id, 'worker-1')).toEqual({ stop: true });
    const late = { runId: run.id, workerId: 'worker-1', epoch: 2, metrics: { val_loss: 0.5 }, training };
    expect(await db.lifecycle.recordEpoch(late)).toEqual({ stop: true });
    expect(await db.lifecycle.recordEpoch({ ...late, checkpoint: checkpointArtifacts([2]) })).toEqual({ stop: true });
    await db.lifecycle.finish(run.id, 'worker-1', 'succeed');
    await db.lifecycle.savePreprocessing(run.id, 'worker-1', { late: true });
    expect(await db.run(run.id)).toEqual(handedBack);
    expect(await db.prisma.metricPoint.count({ where: { runId: run.id, epoch: 2 } })).toBe(0);
    expect(await db.prisma.checkpoint.count({ where: { runId: run.id, epoch: 2 } })).toBe(0);

    const next = await db.lifecycle.claim(run.id, handedBack.attempt, 'worker-2', 'cpu');
    expect(next).toMatchObject({ status: 'RUNNING', workerId: 'worker-2', attempt: 1 });
    expect((await db.runsRepository.latestCheckpoint(run.id))?.epoch).toBe(1);
  });

  it('gives a run whose worker is both stopping and stale to the hand-back or the reconciler, never both', async () => {
    for (let round = 0; round < 10; round++) {
      const run = await db.runIn('RUNNING', seed, { heartbeatAt: HOUR_AGO() });
      const [handed, lost] = await Promise.all([
        db.lifecycle.handBack(run.id, 'worker-1', 0, checkpointArtifacts([1]), training),
        db.lifecycle.reclaimLost(db.config.worker.heartbeatTimeoutMs, db.config.worker.maxAttempts),
      ]);
      const requeued = lost.some((entry) => entry.id === run.id);
      expect(handed).toBe(!requeued);
      expect(await db.run(run.id)).toMatchObject({ status: 'QUEUED', workerId: null, attempt: requeued ? 2 : 1 });
    }
  });

  it('keeps a re-queued run from its lost worker: the old attempt can neither write nor be claimed', async () => {
    const run = await db.runIn('RUNNING', seed, { heartbeatAt: HOUR_AGO() });
    const lost = await db.lifecycle.reclaimLost(db.config.worker.heartbeatTimeoutMs, db.config.worker.maxAttempts);
    expect(lost).toContainEqual({ id: run.id, status: 'QUEUED', attempt: 2 });
    expect(await db.lifecycle.heartbeat(run.id, 'worker-1')).toEqual({ stop: true });
    await db.lifecycle.rewindTo(run.id, 'worker-1', 0);
    await db.lifecycle.finish(run.id, 'worker-1', 'fail', 'late');
    expect(await db.lifecycle.claim(run.id, 1, 'worker-1', 'cpu')).toBeNull();
    expect(await db.run(run.id)).toMatchObject({ status: 'QUEUED', attempt: 2, error: null });
    expect(await db.lifecycle.claim(run.id, 2, 'worker-2', 'cpu')).toMatchObject({ status: 'RUNNING', attempt: 2 });
  });

  it('rewinds a resumed run to its checkpoint only while the run is the resuming worker’s', async () => {
    const run = await db.runIn('RUNNING', seed);
    for (const epoch of [1, 2, 3]) {
      await db.lifecycle.recordEpoch({
        runId: run.id,
        workerId: 'worker-1',
        epoch,
        metrics: { val_loss: 1 / epoch },
        training,
      });
    }
    await db.lifecycle.rewindTo(run.id, 'worker-2', 1);
    expect(await db.prisma.metricPoint.count({ where: { runId: run.id } })).toBe(3);
    await db.lifecycle.rewindTo(run.id, 'worker-1', 1);
    expect(await db.prisma.metricPoint.count({ where: { runId: run.id } })).toBe(1);
    expect((await db.run(run.id)).epochsCompleted).toBe(1);
  });

  it('prunes checkpoints and picks the best one by the same order (the later epoch on a tie)', async () => {
    const run = await db.runIn('RUNNING', seed);
    const losses = [0.5, 0.3, 0.3, 0.4];
    for (const [index, valLoss] of losses.entries()) {
      const epoch = index + 1;
      const record = { runId: run.id, workerId: 'worker-1', epoch, metrics: { val_loss: valLoss }, training };
      await db.lifecycle.recordEpoch({ ...record, checkpoint: checkpointArtifacts([epoch]) });
    }
    const kept = await db.runsRepository.checkpoints(run.id);
    // keep 1: the best (epoch 3 wins its tie with epoch 2), and always the latest.
    expect(kept.map((checkpoint) => checkpoint.epoch)).toEqual([3, 4]);
    const best = await db.runs.bestCheckpoint({ id: run.id, training });
    expect(best?.epoch).toBe(3);
  });
});

describe('RunsService over the lifecycle', () => {
  it('starts a run QUEUED and on the queue, cancels it at once while queued, and takes it off the queue', async () => {
    const run = await db.runs.start({
      datasetId: seed.datasetId,
      modelId: seed.modelId,
      hyperparameters: { hidden: 8, lr: 0.01 },
      training: { target: 'Species', epochs: 2 },
    });
    expect(run.status).toBe('QUEUED');
    expect(await db.waitingJobs()).toContainEqual({ runId: run.id, attempt: 1 });
    const cancelled = await db.runs.cancel(run.id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', error: 'cancelled before it started' });
    expect(await db.waitingJobs()).not.toContainEqual({ runId: run.id, attempt: 1 });
  });

  it('flags a running run for its worker, and refuses to cancel an ended one', async () => {
    const running = await db.runIn('RUNNING', seed);
    expect(await db.runs.cancel(running.id)).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    await db.lifecycle.finish(running.id, 'worker-1', 'stop', 'cancelled after 0 epoch(s)');
    const error = await db.runs.cancel(running.id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toBe(`run "${running.id}" has already ended (CANCELLED)`);
  });
});
