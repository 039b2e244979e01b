import { Injectable } from '@nestjs/common';

import { type Checkpoint as CheckpointRow, PrismaService, type Run as RunRow, type RunStatus } from '#libs/core/db';
import { afterCursor, NEWEST_FIRST, type PageQuery } from '#libs/core/pagination';

export type { RunRow };
export type CheckpointSummaryRow = Omit<
  CheckpointRow,
  'weights' | 'optimizerState' | 'modelTopology' | 'weightSpecs' | 'trainingState'
>;

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

const CHECKPOINT_SUMMARY = {
  id: true,
  runId: true,
  epoch: true,
  metrics: true,
  sizeBytes: true,
  createdAt: true,
} as const;

@Injectable()
export class RunsRepository {
  constructor(private readonly prisma: PrismaService) {}

  findById(id: string): Promise<RunRow | null> {
    return this.prisma.run.findUnique({ where: { id } });
  }

  /** The newest `limit` runs matching the filter. */
  findMany(filter: RunFilter, limit: number): Promise<RunRow[]> {
    return this.prisma.run.findMany({ where: filter, orderBy: NEWEST_FIRST, take: limit });
  }

  /** One keyset page (take + 1 rows, the extra one says a next page exists), newest first. */
  page(filter: RunFilter, query: PageQuery): Promise<RunRow[]> {
    const where = { ...filter, ...afterCursor(query.after) };
    return this.prisma.run.findMany({ where, orderBy: NEWEST_FIRST, take: query.take + 1 });
  }

  count(filter: RunFilter): Promise<number> {
    return this.prisma.run.count({ where: filter });
  }

  async metricPoints(runId: string, names?: string[]): Promise<MetricPointRow[]> {
    return this.prisma.metricPoint.findMany({
      where: { runId, ...(names ? { name: { in: names } } : {}) },
      select: { name: true, step: true, epoch: true, value: true, timestamp: true },
      orderBy: [{ name: 'asc' }, { step: 'asc' }],
    });
  }

  /**
   * Each series downsampled in PostgreSQL to at most `maxPoints` points. A series that fits comes back
   * whole. A longer one is cut into (maxPoints - 2) / 2 equal step ranges; of each, the lowest and the
   * highest value are kept (the earliest step on ties), and always the first and the last point. The
   * only pass over a long series is one aggregate (min/max of [value, step] arrays, hashed by bucket, no
   * sort); its bounds and length come from the (run_id, name, step) key, the chosen points through it.
   */
  async downsampledMetricPoints(
    runId: string,
    names: string[] | undefined,
    maxPoints: number,
  ): Promise<MetricPointRow[]> {
    const buckets = Math.floor((maxPoints - 2) / 2);
    const series = await this.seriesBounds(runId, names ?? (await this.metricNames(runId)), maxPoints);
    const short = series.filter((entry) => entry.n <= maxPoints).map((entry) => entry.name);
    const chosen: { name: string; step: number }[] = [];
    for (const entry of series.filter((candidate) => candidate.n > maxPoints)) {
      chosen.push({ name: entry.name, step: entry.lo }, { name: entry.name, step: entry.hi });
      if (buckets === 0) continue;
      const extremes = await this.prisma.$queryRaw<{ low: number[]; high: number[] }[]>`
        SELECT min(ARRAY[value, step]) AS low, max(ARRAY[value, -step]) AS high
        FROM metric_points WHERE run_id = ${runId}::uuid AND name = ${entry.name}
        GROUP BY (step - ${entry.lo})::int8 * ${buckets} / (${entry.hi}::int8 - ${entry.lo} + 1)`;
      for (const { low, high } of extremes) {
        chosen.push({ name: entry.name, step: low[1] }, { name: entry.name, step: -high[1] });
      }
    }
    const [whole, picked] = await Promise.all([
      short.length > 0 ? this.metricPoints(runId, short) : [],
      chosen.length > 0
        ? this.prisma.$queryRaw<MetricPointRow[]>`
            SELECT DISTINCT p.name, p.step, p.epoch, p.value, p.timestamp
            FROM unnest(
              ${chosen.map((point) => point.name)}::text[], ${chosen.map((point) => point.step)}::int[]
            ) AS c(name, step)
            JOIN metric_points p ON p.run_id = ${runId}::uuid AND p.name = c.name AND p.step = c.step`
        : [],
    ]);
    return [...whole, ...picked].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.step - b.step));
  }

  /** The run's series names by a skip scan of the (run_id, name, step) key: one probe per name, not per point. */
  private async metricNames(runId: string): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ name: string }[]>`
      WITH RECURSIVE names(name) AS (
        (SELECT name FROM metric_points WHERE run_id = ${runId}::uuid ORDER BY name LIMIT 1)
        UNION ALL
        SELECT (
          SELECT p.name FROM metric_points p
          WHERE p.run_id = ${runId}::uuid AND p.name > names.name ORDER BY p.name LIMIT 1)
        FROM names WHERE names.name IS NOT NULL
      )
      SELECT name FROM names WHERE name IS NOT NULL`;
    return rows.map((row) => row.name);
  }

  /** First and last step of each series from the key, and its length counted only up to maxPoints + 1. */
  private seriesBounds(runId: string, names: string[], maxPoints: number) {
    return this.prisma.$queryRaw<{ name: string; lo: number; hi: number; n: number }[]>`
      SELECT s.name, lo.step AS lo, hi.step AS hi,
        (SELECT count(*)::int FROM (
          SELECT 1 FROM metric_points c
          WHERE c.run_id = ${runId}::uuid AND c.name = s.name LIMIT ${maxPoints + 1}) AS l) AS n
      FROM unnest(${names}::text[]) AS s(name)
      CROSS JOIN LATERAL (
        SELECT step FROM metric_points f
        WHERE f.run_id = ${runId}::uuid AND f.name = s.name ORDER BY step LIMIT 1) AS lo
      CROSS JOIN LATERAL (
        SELECT step FROM metric_points l
        WHERE l.run_id = ${runId}::uuid AND l.name = s.name ORDER BY step DESC LIMIT 1) AS hi`;
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

  /** The checkpoint a resumed attempt starts from: the latest one. */
  latestCheckpoint(runId: string): Promise<CheckpointRow | null> {
    return this.prisma.checkpoint.findFirst({ where: { runId }, orderBy: { epoch: 'desc' } });
  }

  /** What a worker trains a run on: its dataset and its model definition. */
  trainingContext(run: Pick<RunRow, 'datasetId' | 'modelId'>) {
    return Promise.all([
      this.prisma.dataset.findUniqueOrThrow({ where: { id: run.datasetId } }),
      this.prisma.modelDefinition.findUniqueOrThrow({ where: { id: run.modelId } }),
    ]);
  }
}
