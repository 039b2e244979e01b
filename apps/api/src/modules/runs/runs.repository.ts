import { Injectable } from '@nestjs/common';
import { type Checkpoint as CheckpointRow, Prisma, PrismaService, type Run as RunRow, type RunStatus } from '../../../../../libs/db/src/index.js';

export type { RunRow };
export type CheckpointSummaryRow = Omit<CheckpointRow, 'weights' | 'optimizerState' | 'modelTopology' | 'weightSpecs' | 'trainingState'>;

export interface MetricPointRow {
  name: string;
  step: number;
  epoch: number | null;
  value: number;
  timestamp: Date;
}

const CHECKPOINT_SUMMARY = { id: true, runId: true, epoch: true, metrics: true, sizeBytes: true, createdAt: true } as const;

@Injectable()
export class RunsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: Prisma.RunUncheckedCreateInput): Promise<RunRow> {
    return this.prisma.run.create({ data });
  }

  findById(id: string): Promise<RunRow | null> {
    return this.prisma.run.findUnique({ where: { id } });
  }

  findMany(filter: { status?: RunStatus; sweepId?: string }): Promise<RunRow[]> {
    return this.prisma.run.findMany({ where: filter, orderBy: { createdAt: 'desc' } });
  }

  /** Cancels a run that has not started; false when a worker took it first. */
  async cancelQueued(id: string): Promise<boolean> {
    const { count } = await this.prisma.run.updateMany({
      where: { id, status: 'QUEUED' },
      data: { status: 'CANCELLED', finishedAt: new Date(), error: 'cancelled before it started' },
    });
    return count > 0;
  }

  /** Asks the worker training the run to stop; it checks the flag between batches. */
  async requestCancel(id: string): Promise<boolean> {
    const { count } = await this.prisma.run.updateMany({ where: { id, status: 'RUNNING' }, data: { cancelRequested: true } });
    return count > 0;
  }

  async metricPoints(runId: string, names?: string[]): Promise<MetricPointRow[]> {
    return this.prisma.metricPoint.findMany({
      where: { runId, ...(names ? { name: { in: names } } : {}) },
      select: { name: true, step: true, epoch: true, value: true, timestamp: true },
      orderBy: [{ name: 'asc' }, { step: 'asc' }],
    });
  }

  checkpoints(runId: string): Promise<CheckpointSummaryRow[]> {
    return this.prisma.checkpoint.findMany({ where: { runId }, select: CHECKPOINT_SUMMARY, orderBy: { epoch: 'asc' } });
  }

  checkpointWithWeights(id: string): Promise<CheckpointRow | null> {
    return this.prisma.checkpoint.findUnique({ where: { id } });
  }

  preprocessingOf(runId: string): Promise<{ preprocessing: unknown } | null> {
    return this.prisma.run.findUnique({ where: { id: runId }, select: { preprocessing: true } });
  }
}
