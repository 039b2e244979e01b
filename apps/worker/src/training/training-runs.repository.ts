import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, type Run as RunRow, RunEventsRepository, type RunStatus } from '#libs/core/db';
import { type CheckpointArtifacts, type TrainingConfig, checkpointScore } from '#libs/pure/training';

export type { RunRow };

export interface EpochRecord {
  runId: string;
  workerId: string;
  epoch: number;
  metrics: Record<string, number>;
  checkpoint?: CheckpointArtifacts;
  training: TrainingConfig;
}

/** Everything the worker writes about a run. Each write names the worker, so a run taken over by another attempt is never overwritten. */
@Injectable()
export class TrainingRunsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly events: RunEventsRepository,
  ) {}

  /** Atomically takes a QUEUED run of this attempt; null when it was cancelled, taken or superseded. */
  async claim(runId: string, attempt: number, workerId: string, device: string): Promise<RunRow | null> {
    const { count } = await this.prisma.run.updateMany({
      where: { id: runId, attempt, status: 'QUEUED' },
      data: { status: 'RUNNING', workerId, device, heartbeatAt: new Date(), startedAt: new Date(), error: null },
    });
    if (count === 0) return null;
    await this.events.publish({ type: 'run', runId });
    return this.prisma.run.findUnique({ where: { id: runId } });
  }

  loadContext(run: RunRow) {
    return Promise.all([
      this.prisma.dataset.findUniqueOrThrow({ where: { id: run.datasetId } }),
      this.prisma.modelDefinition.findUniqueOrThrow({ where: { id: run.modelId } }),
    ]);
  }

  async savePreprocessing(runId: string, workerId: string, preprocessing: unknown): Promise<void> {
    await this.prisma.run.updateMany({ where: { id: runId, workerId }, data: { preprocessing: preprocessing as Prisma.InputJsonValue } });
  }

  /** Heartbeat; returns whether the run should stop (cancel requested, or no longer this worker's). */
  async heartbeat(runId: string, workerId: string): Promise<{ stop: boolean }> {
    const rows = await this.prisma.$queryRaw<{ cancel_requested: boolean }[]>`
      UPDATE runs SET heartbeat_at = now() WHERE id = ${runId}::uuid AND worker_id = ${workerId} AND status = 'RUNNING'
      RETURNING cancel_requested`;
    return { stop: rows.length === 0 || rows[0].cancel_requested };
  }

  /**
   * One epoch's record. Without a checkpoint it is one statement, so one round trip whatever the number of
   * metrics: the run's progress (only while this worker owns it) and the epoch's points as one multi-row
   * insert from two arrays (a point that exists is kept, so a resumed epoch never doubles one). With a
   * checkpoint it is one transaction: the same, the checkpoint, and the older ones beyond `keep` pruned.
   */
  async recordEpoch(record: EpochRecord): Promise<{ stop: boolean }> {
    const now = new Date();
    const names = Object.keys(record.metrics);
    const values = names.map((name) => record.metrics[name]);
    const result = record.checkpoint
      ? await this.recordEpochWithCheckpoint(record, names, values, now)
      : await this.recordEpochPoints(record, names, values, now);
    await this.events.publish({
      type: 'metrics',
      runId: record.runId,
      points: names.map((name, index) => ({ name, step: record.epoch, epoch: record.epoch, value: values[index], timestamp: now.toISOString() })),
    });
    await this.events.publish({ type: 'run', runId: record.runId });
    return result;
  }

  /** Progress and points in one statement: the insert's CTE runs only when the update took the run. */
  private async recordEpochPoints(
    record: EpochRecord,
    names: string[],
    values: number[],
    now: Date,
  ): Promise<{ stop: boolean }> {
    const owned = await this.prisma.$queryRaw<{ cancel_requested: boolean }[]>`
      WITH owned AS (
        UPDATE runs
        SET epochs_completed = ${record.epoch}, summary = ${JSON.stringify(record.metrics)}::jsonb, heartbeat_at = ${now}
        WHERE id = ${record.runId}::uuid AND worker_id = ${record.workerId} AND status = 'RUNNING'
        RETURNING cancel_requested
      ), points AS (
        INSERT INTO metric_points (run_id, name, step, epoch, value, timestamp)
        SELECT ${record.runId}::uuid, m.name, ${record.epoch}, ${record.epoch}, m.value, ${now}
        FROM unnest(${names}::text[], ${values}::float8[]) AS m(name, value)
        WHERE EXISTS (SELECT 1 FROM owned)
        ON CONFLICT (run_id, name, step) DO NOTHING
      )
      SELECT cancel_requested FROM owned`;
    return { stop: owned.length === 0 || owned[0].cancel_requested };
  }

  private recordEpochWithCheckpoint(
    record: EpochRecord,
    names: string[],
    values: number[],
    now: Date,
  ): Promise<{ stop: boolean }> {
    const checkpoint = record.checkpoint!;
    return this.prisma.$transaction(async (tx) => {
      const owned = await tx.run.updateMany({
        where: { id: record.runId, workerId: record.workerId, status: 'RUNNING' },
        data: { epochsCompleted: record.epoch, summary: record.metrics as Prisma.InputJsonValue, heartbeatAt: now },
      });
      if (owned.count === 0) return { stop: true };
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
      return { stop: run.cancelRequested };
    });
  }

  /** Keeps the best `keep` checkpoints by the monitored metric, and always the latest (a resume starts from it). */
  private async pruneCheckpoints(tx: Prisma.TransactionClient, runId: string, training: TrainingConfig): Promise<void> {
    const all = await tx.checkpoint.findMany({ where: { runId }, select: { id: true, epoch: true, metrics: true }, orderBy: { epoch: 'desc' } });
    const score = (metrics: unknown) => checkpointScore(metrics, training.checkpoint);
    const ranked = [...all].sort((a, b) => score(a.metrics) - score(b.metrics) || b.epoch - a.epoch);
    const kept = new Set(ranked.slice(0, training.checkpoint.keep).map((checkpoint) => checkpoint.id));
    if (all[0]) kept.add(all[0].id);
    const drop = all.filter((checkpoint) => !kept.has(checkpoint.id)).map((checkpoint) => checkpoint.id);
    if (drop.length) await tx.checkpoint.deleteMany({ where: { id: { in: drop } } });
  }

  /** The checkpoint a resumed attempt starts from: the latest one. */
  latestCheckpoint(runId: string) {
    return this.prisma.checkpoint.findFirst({ where: { runId }, orderBy: { epoch: 'desc' } });
  }

  /**
   * Rewinds a resumed run to the checkpoint it restarts from: the points of epochs after it are
   * removed (they are trained again), so every step of the final series is there exactly once.
   */
  async rewindTo(runId: string, workerId: string, epoch: number): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.metricPoint.deleteMany({ where: { runId, epoch: { gt: epoch } } }),
      this.prisma.run.updateMany({ where: { id: runId, workerId }, data: { epochsCompleted: epoch } }),
    ]);
  }

  /**
   * A worker stopping (SIGTERM) saves the weights it has (the epoch it was in is not reported)
   * and returns the run to the queue as it is: a graceful stop is not a loss, so the attempt stays.
   */
  async handBack(runId: string, workerId: string, lastCompletedEpoch: number, checkpoint: CheckpointArtifacts, training: TrainingConfig): Promise<boolean> {
    const weights = new Uint8Array(checkpoint.weights);
    const state = {
      weightSpecs: checkpoint.weightSpecs as unknown as Prisma.InputJsonValue,
      modelTopology: checkpoint.modelTopology as Prisma.InputJsonValue,
      weights,
      optimizerState: new Uint8Array(checkpoint.optimizerWeights),
      trainingState: { optimizerSpecs: checkpoint.optimizerSpecs, handedBack: true } as unknown as Prisma.InputJsonValue,
      sizeBytes: weights.byteLength,
    };
    const handed = await this.prisma.$transaction(async (tx) => {
      const run = await tx.run.findFirst({ where: { id: runId, workerId, status: 'RUNNING' }, select: { summary: true } });
      if (!run) return false;
      await tx.checkpoint.upsert({
        where: { runId_epoch: { runId, epoch: lastCompletedEpoch } },
        update: state,
        create: { id: randomUUID(), runId, epoch: lastCompletedEpoch, metrics: (run.summary ?? undefined) as Prisma.InputJsonValue | undefined, ...state },
      });
      await this.pruneCheckpoints(tx, runId, training);
      await tx.run.update({ where: { id: runId }, data: { status: 'QUEUED', workerId: null, heartbeatAt: null } });
      return true;
    });
    if (handed) await this.events.publish({ type: 'run', runId });
    return handed;
  }

  async finish(runId: string, workerId: string, status: RunStatus, error: string | null = null): Promise<void> {
    await this.prisma.run.updateMany({
      where: { id: runId, workerId, status: 'RUNNING' },
      data: { status, error, finishedAt: new Date(), heartbeatAt: new Date() },
    });
    await this.events.publish({ type: 'run', runId });
  }
}
