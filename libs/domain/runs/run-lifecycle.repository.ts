import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import { Prisma, PrismaService, type Run as RunRow, type RunStatus } from '#libs/core/db';
import type { TrainRunJob } from '#libs/core/queue';
import type { CheckpointArtifacts, TrainingConfig } from '#libs/pure/training';

import { rankCheckpoints } from './checkpoint-ranking.js';
import { requiredStatus, type RunFinishEvent, type RunLifecycleEvent, transitionOf } from './run-transitions.js';

/** What a new run is made of; its status, attempt and timestamps are the lifecycle's. */
export type NewRun = Pick<
  Prisma.RunUncheckedCreateInput,
  'id' | 'datasetId' | 'modelId' | 'sweepId' | 'trialIndex' | 'hyperparameters' | 'training'
>;

export interface EpochRecord {
  runId: string;
  workerId: string;
  epoch: number;
  metrics: Record<string, number>;
  checkpoint?: CheckpointArtifacts;
  training: TrainingConfig;
}

/** A run whose worker was lost: re-queued (with its new attempt) or failed. */
export interface LostRun {
  id: string;
  status: RunStatus;
  attempt: number;
}

/** A status from the transition table as an SQL literal (a closed enum, never user input). */
const from = (event: RunLifecycleEvent) => Prisma.raw(`'${requiredStatus(event)}'`);
const to = (event: RunLifecycleEvent) => Prisma.raw(`'${transitionOf(event).to}'`);

/**
 * Every statement that writes a run row. Each is conditional on the status the transition table requires (and,
 * for a worker, on the worker's id), so a run cancelled, handed back or taken by another attempt is never
 * overwritten by a late writer. Only RunLifecycle uses it.
 */
@Injectable()
export class RunLifecycleRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(run: NewRun, db: Prisma.TransactionClient = this.prisma): Promise<RunRow> {
    return db.run.create({ data: { ...run, status: transitionOf('create').to } });
  }

  reject(run: NewRun, error: string, db: Prisma.TransactionClient = this.prisma): Promise<RunRow> {
    return db.run.create({ data: { ...run, status: transitionOf('reject').to, error, finishedAt: new Date() } });
  }

  async cancelQueued(id: string, error: string): Promise<boolean> {
    const { count } = await this.prisma.run.updateMany({
      where: { id, status: requiredStatus('cancel') },
      data: { status: transitionOf('cancel').to, finishedAt: new Date(), error },
    });
    return count > 0;
  }

  async requestCancel(id: string): Promise<boolean> {
    const { count } = await this.prisma.run.updateMany({
      where: { id, status: requiredStatus('requestCancel') },
      data: { cancelRequested: true },
    });
    return count > 0;
  }

  /** Cancels a sweep's queued trials and asks its running ones to stop, inside the sweep's transaction. */
  async endSweepTrials(sweepId: string, error: string, db: Prisma.TransactionClient): Promise<void> {
    await db.run.updateMany({
      where: { sweepId, status: requiredStatus('cancel') },
      data: { status: transitionOf('cancel').to, finishedAt: new Date(), error },
    });
    await db.run.updateMany({
      where: { sweepId, status: requiredStatus('requestCancel') },
      data: { cancelRequested: true },
    });
  }

  /** Takes this attempt of a queued run; false when it was cancelled, taken or superseded. */
  async claim(runId: string, attempt: number, workerId: string, device: string): Promise<boolean> {
    const { count } = await this.prisma.run.updateMany({
      where: { id: runId, attempt, status: requiredStatus('claim') },
      data: {
        status: transitionOf('claim').to,
        workerId,
        device,
        heartbeatAt: new Date(),
        startedAt: new Date(),
        error: null,
      },
    });
    return count > 0;
  }

  findById(id: string): Promise<RunRow | null> {
    return this.prisma.run.findUnique({ where: { id } });
  }

  /** null when the run is no longer this worker's; else whether a cancel was asked for. */
  async heartbeat(runId: string, workerId: string): Promise<{ cancelRequested: boolean } | null> {
    const rows = await this.prisma.$queryRaw<{ cancel_requested: boolean }[]>`
      UPDATE runs SET heartbeat_at = now()
      WHERE id = ${runId}::uuid AND worker_id = ${workerId} AND status = ${from('heartbeat')}
      RETURNING cancel_requested`;
    return rows.length === 0 ? null : { cancelRequested: rows[0].cancel_requested };
  }

  async savePreprocessing(runId: string, workerId: string, preprocessing: unknown): Promise<void> {
    await this.prisma.run.updateMany({
      where: { id: runId, workerId, status: requiredStatus('progress') },
      data: { preprocessing: preprocessing as Prisma.InputJsonValue },
    });
  }

  /** The points after `epoch` go only while the run is this worker's (its row is locked by then). */
  async rewindTo(runId: string, workerId: string, epoch: number): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const owned = await tx.run.updateMany({
        where: { id: runId, workerId, status: requiredStatus('progress') },
        data: { epochsCompleted: epoch },
      });
      if (owned.count > 0) await tx.metricPoint.deleteMany({ where: { runId, epoch: { gt: epoch } } });
    });
  }

  /**
   * One epoch's record. Without a checkpoint it is one statement, so one round trip whatever the number of
   * metrics: the run's progress (only while this worker owns it) and the epoch's points as one multi-row
   * insert from two arrays (a point that exists is kept, so a resumed epoch never doubles one). With a
   * checkpoint it is one transaction: the same, the checkpoint, and the older ones beyond `keep` pruned.
   * null when the run is no longer this worker's.
   */
  recordEpoch(record: EpochRecord, names: string[], values: number[], now: Date) {
    return record.checkpoint
      ? this.recordEpochWithCheckpoint(record, record.checkpoint, names, values, now)
      : this.recordEpochPoints(record, names, values, now);
  }

  /** Progress and points in one statement: the insert's CTE runs only when the update took the run. */
  private async recordEpochPoints(
    record: EpochRecord,
    names: string[],
    values: number[],
    now: Date,
  ): Promise<{ cancelRequested: boolean } | null> {
    const owned = await this.prisma.$queryRaw<{ cancel_requested: boolean }[]>`
      WITH owned AS (
        UPDATE runs
        SET epochs_completed = ${record.epoch}, summary = ${JSON.stringify(record.metrics)}::jsonb,
          heartbeat_at = ${now}
        WHERE id = ${record.runId}::uuid AND worker_id = ${record.workerId} AND status = ${from('progress')}
        RETURNING cancel_requested
      ), points AS (
        INSERT INTO metric_points (run_id, name, step, epoch, value, timestamp)
        SELECT ${record.runId}::uuid, m.name, ${record.epoch}, ${record.epoch}, m.value, ${now}
        FROM unnest(${names}::text[], ${values}::float8[]) AS m(name, value)
        WHERE EXISTS (SELECT 1 FROM owned)
        ON CONFLICT (run_id, name, step) DO NOTHING
      )
      SELECT cancel_requested FROM owned`;
    return owned.length === 0 ? null : { cancelRequested: owned[0].cancel_requested };
  }

  private recordEpochWithCheckpoint(
    record: EpochRecord,
    checkpoint: CheckpointArtifacts,
    names: string[],
    values: number[],
    now: Date,
  ): Promise<{ cancelRequested: boolean } | null> {
    return this.prisma.$transaction(async (tx) => {
      const owned = await tx.run.updateMany({
        where: { id: record.runId, workerId: record.workerId, status: requiredStatus('progress') },
        data: { epochsCompleted: record.epoch, summary: record.metrics as Prisma.InputJsonValue, heartbeatAt: now },
      });
      if (owned.count === 0) return null;
      await tx.$executeRaw`
        INSERT INTO metric_points (run_id, name, step, epoch, value, timestamp)
        SELECT ${record.runId}::uuid, m.name, ${record.epoch}, ${record.epoch}, m.value, ${now}
        FROM unnest(${names}::text[], ${values}::float8[]) AS m(name, value)
        ON CONFLICT (run_id, name, step) DO NOTHING`;
      const weights = new Uint8Array(checkpoint.weights);
      await tx.checkpoint.upsert({
        where: { runId_epoch: { runId: record.runId, epoch: record.epoch } },
        update: {},
        create: {
          id: randomUUID(),
          runId: record.runId,
          epoch: record.epoch,
          metrics: record.metrics as Prisma.InputJsonValue,
          modelTopology: checkpoint.modelTopology as Prisma.InputJsonValue,
          weightSpecs: checkpoint.weightSpecs as unknown as Prisma.InputJsonValue,
          weights,
          optimizerState: new Uint8Array(checkpoint.optimizerWeights),
          trainingState: { optimizerSpecs: checkpoint.optimizerSpecs } as unknown as Prisma.InputJsonValue,
          sizeBytes: weights.byteLength,
        },
      });
      await this.pruneCheckpoints(tx, record.runId, record.training);
      const run = await tx.run.findUniqueOrThrow({ where: { id: record.runId }, select: { cancelRequested: true } });
      return { cancelRequested: run.cancelRequested };
    });
  }

  /** Keeps the best `keep` checkpoints by the monitored metric, and always the latest (a resume starts from it). */
  private async pruneCheckpoints(tx: Prisma.TransactionClient, runId: string, training: TrainingConfig): Promise<void> {
    const all = await tx.checkpoint.findMany({
      where: { runId },
      select: { id: true, epoch: true, metrics: true },
      orderBy: { epoch: 'desc' },
    });
    const kept = new Set(
      rankCheckpoints(all, training)
        .slice(0, training.checkpoint.keep)
        .map((checkpoint) => checkpoint.id),
    );
    if (all[0]) kept.add(all[0].id);
    const drop = all.filter((checkpoint) => !kept.has(checkpoint.id)).map((checkpoint) => checkpoint.id);
    if (drop.length) await tx.checkpoint.deleteMany({ where: { id: { in: drop } } });
  }

  /**
   * Saves the weights at `lastCompletedEpoch` and puts the run back to QUEUED with its attempt, in one transaction.
   * The row is locked first, so a reconciler or a cancel cannot change it between the check and the update.
   */
  async handBack(
    runId: string,
    workerId: string,
    lastCompletedEpoch: number,
    checkpoint: CheckpointArtifacts,
    training: TrainingConfig,
  ): Promise<boolean> {
    const weights = new Uint8Array(checkpoint.weights);
    const state = {
      weightSpecs: checkpoint.weightSpecs as unknown as Prisma.InputJsonValue,
      modelTopology: checkpoint.modelTopology as Prisma.InputJsonValue,
      weights,
      optimizerState: new Uint8Array(checkpoint.optimizerWeights),
      trainingState: {
        optimizerSpecs: checkpoint.optimizerSpecs,
        handedBack: true,
      } as unknown as Prisma.InputJsonValue,
      sizeBytes: weights.byteLength,
    };
    return this.prisma.$transaction(async (tx) => {
      const [run] = await tx.$queryRaw<{ summary: Prisma.JsonValue }[]>`
        SELECT summary FROM runs
        WHERE id = ${runId}::uuid AND worker_id = ${workerId} AND status = ${from('handBack')}
        FOR UPDATE`;
      if (!run) return false;
      await tx.checkpoint.upsert({
        where: { runId_epoch: { runId, epoch: lastCompletedEpoch } },
        update: state,
        create: {
          id: randomUUID(),
          runId,
          epoch: lastCompletedEpoch,
          metrics: (run.summary ?? undefined) as Prisma.InputJsonValue | undefined,
          ...state,
        },
      });
      await this.pruneCheckpoints(tx, runId, training);
      await tx.run.update({
        where: { id: runId },
        data: { status: transitionOf('handBack').to, workerId: null, heartbeatAt: null },
      });
      return true;
    });
  }

  async finish(runId: string, workerId: string, event: RunFinishEvent, error: string | null): Promise<boolean> {
    const { count } = await this.prisma.run.updateMany({
      where: { id: runId, workerId, status: requiredStatus(event) },
      data: { status: transitionOf(event).to, error, finishedAt: new Date(), heartbeatAt: new Date() },
    });
    return count > 0;
  }

  /**
   * Runs whose worker has not beaten for `timeoutMs`: back to the queue with attempt + 1, or failed once the
   * attempt reached `maxAttempts`. One statement, so two reconcilers never both take the same run.
   */
  reclaimLost(timeoutMs: number, maxAttempts: number): Promise<LostRun[]> {
    return this.prisma.$queryRaw<LostRun[]>`
      UPDATE runs SET
        status = (CASE WHEN attempt >= ${maxAttempts} THEN ${to('giveUp')} ELSE ${to('requeue')} END)::"RunStatus",
        error = CASE WHEN attempt >= ${maxAttempts}
          THEN 'the worker training this run was lost ' || attempt || ' time(s) (no heartbeat for '
            || ${timeoutMs / 1000} || ' s); MAX_ATTEMPTS reached'
          ELSE error END,
        finished_at = CASE WHEN attempt >= ${maxAttempts} THEN now() ELSE NULL END,
        attempt = CASE WHEN attempt >= ${maxAttempts} THEN attempt ELSE attempt + 1 END,
        worker_id = NULL
      WHERE status = ${from('requeue')} AND heartbeat_at < now() - (${timeoutMs} * interval '1 millisecond')
      RETURNING id, status::text AS status, attempt`;
  }

  /** Every run a worker may claim, oldest first, as the job the queue should hold for it. */
  queuedJobs(): Promise<TrainRunJob[]> {
    return this.prisma.run
      .findMany({
        where: { status: requiredStatus('claim') },
        select: { id: true, attempt: true },
        orderBy: { createdAt: 'asc' },
      })
      .then((runs) => runs.map((run) => ({ runId: run.id, attempt: run.attempt })));
  }
}
