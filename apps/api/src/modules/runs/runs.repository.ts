import { Injectable } from '@nestjs/common';
import { type Checkpoint as CheckpointRow, Prisma, PrismaService, type Run as RunRow, type RunStatus } from '../../../../../libs/db/src/index.js';
import { NEWEST_FIRST, type PageQuery, afterCursor } from '../../platform/pagination.js';

export type { RunRow };
export type CheckpointSummaryRow = Omit<CheckpointRow, 'weights' | 'optimizerState' | 'modelTopology' | 'weightSpecs' | 'trainingState'>;

export interface MetricPointRow {
  name: string;
  step: number;
  epoch: number | null;
  value: number;
  timestamp: Date;
}

export interface RunFilter {
  status?: RunStatus;
  sweepId?: string;
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

  /** The newest `limit` runs matching the filter. */
  findMany(filter: RunFilter, limit: number): Promise<RunRow[]> {
    return this.prisma.run.findMany({ where: filter, orderBy: NEWEST_FIRST, take: limit });
  }

  /** One keyset page (take + 1 rows, the extra one says a next page exists), newest first. */
  page(filter: RunFilter, query: PageQuery): Promise<RunRow[]> {
    return this.prisma.run.findMany({ where: { ...filter, ...afterCursor(query.after) }, orderBy: NEWEST_FIRST, take: query.take + 1 });
  }

  count(filter: RunFilter): Promise<number> {
    return this.prisma.run.count({ where: filter });
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

  /**
   * Each series downsampled in PostgreSQL to at most `maxPoints` points: a series that fits comes back
   * whole; a longer one is cut into (maxPoints - 2) / 2 equal step ranges, and of each the lowest and the
   * highest value are kept (the earliest step on ties), plus always the first and the last point. The
   * per-bucket extremes are one hash aggregate over the series (min/max of [value, step] arrays, no sort),
   * and only the chosen points are then read whole through the (run_id, name, step) key.
   */
  downsampledMetricPoints(runId: string, names: string[] | undefined, maxPoints: number): Promise<MetricPointRow[]> {
    const buckets = Math.floor((maxPoints - 2) / 2);
    return this.prisma.$queryRaw<MetricPointRow[]>`
      WITH bounds AS (
        SELECT name, min(step) AS lo, max(step) AS hi, count(*) AS n
        FROM metric_points
        WHERE run_id = ${runId}::uuid AND (${names ?? null}::text[] IS NULL OR name = ANY(${names ?? null}::text[]))
        GROUP BY name
      ),
      extremes AS (
        SELECT p.name, min(ARRAY[p.value, p.step]) AS low, max(ARRAY[p.value, -p.step]) AS high
        FROM metric_points p JOIN bounds b ON b.name = p.name
        WHERE p.run_id = ${runId}::uuid AND b.n > ${maxPoints} AND ${buckets} > 0
        GROUP BY p.name, width_bucket(p.step, b.lo, b.hi + 1, greatest(${buckets}, 1))
      ),
      chosen AS (
        SELECT p.name, p.step FROM metric_points p JOIN bounds b ON b.name = p.name
          WHERE p.run_id = ${runId}::uuid AND b.n <= ${maxPoints}
        UNION SELECT name, lo FROM bounds WHERE n > ${maxPoints}
        UNION SELECT name, hi FROM bounds WHERE n > ${maxPoints}
        UNION SELECT name, low[2]::int FROM extremes
        UNION SELECT name, (-high[2])::int FROM extremes
      )
      SELECT p.name, p.step, p.epoch, p.value, p.timestamp
      FROM chosen c JOIN metric_points p ON p.run_id = ${runId}::uuid AND p.name = c.name AND p.step = c.step
      ORDER BY p.name, p.step`;
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
