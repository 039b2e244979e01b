import { randomInt, randomUUID } from 'node:crypto';

import { Inject, Injectable, Logger } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import type { Prisma } from '#libs/core/db';
import { AppError, isUuid } from '#libs/core/errors';
import { type Page, pageQuery, toPage } from '#libs/core/pagination';
import { JOB_QUEUE, type JobQueue } from '#libs/core/queue';
import { DatasetsService } from '#libs/domain/datasets';
import { ModelsService } from '#libs/domain/models';
import { planRun, type TrainingConfig } from '#libs/pure/training';

import { pickBestCheckpoint } from './checkpoint-ranking.js';
import type { Checkpoint, MetricSeries, Run, StartRunInput } from './dto/run.type.js';
import { RunLifecycle } from './run-lifecycle.js';
import { isFinal } from './run-transitions.js';
import { type CheckpointSummaryRow, type RunFilter, type RunRow, RunsRepository } from './runs.repository.js';
import { SweepAdvancer } from './sweep-advancer.js';

export function toCheckpoint(row: CheckpointSummaryRow): Checkpoint {
  return { ...row, modelUrl: `/v1/checkpoints/${row.id}/model.json` };
}

@Injectable()
export class RunsService {
  private readonly logger = new Logger(RunsService.name);

  constructor(
    private readonly runs: RunsRepository,
    private readonly lifecycle: RunLifecycle,
    private readonly datasets: DatasetsService,
    private readonly models: ModelsService,
    private readonly sweeps: SweepAdvancer,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Checks everything that can be checked before training, writes the run as QUEUED, then
   * enqueues it. Should the enqueue fail, the run is still QUEUED in the database and the
   * workers' reconciler puts it on the queue: the database, not the queue, is the truth.
   */
  async start(input: StartRunInput): Promise<Run> {
    const dataset = await this.datasets.get(input.datasetId);
    if (dataset.status !== 'READY')
      throw AppError.badInput(`datasetId: dataset "${dataset.id}" is ${dataset.status}, not READY`);
    const model = await this.models.get(input.modelId);
    const plan = planRun(
      model.spec,
      input.hyperparameters,
      input.training,
      this.datasets.columns(dataset),
      randomInt(2 ** 31 - 1),
      this.config.limits.maxModelParams,
    );
    const run = await this.lifecycle.create({
      id: randomUUID(),
      datasetId: dataset.id,
      modelId: model.id,
      hyperparameters: plan.hyperparameters as Prisma.InputJsonValue,
      training: plan.training as unknown as Prisma.InputJsonValue,
    });
    await this.queue.enqueue({ runId: run.id, attempt: run.attempt }).catch((error: Error) => {
      this.logger.warn(`run ${run.id} is queued in the database but not yet on the queue: ${error.message}`);
    });
    return run;
  }

  async get(id: string): Promise<RunRow> {
    const run = isUuid(id) ? await this.runs.findById(id) : null;
    if (!run) throw AppError.notFound('run', id);
    return run;
  }

  find(id: string): Promise<RunRow | null> {
    return isUuid(id) ? this.runs.findById(id) : Promise.resolve(null);
  }

  /** The newest runs matching the filter, at most MAX_LIST_ITEMS of them: runsPage pages through all. */
  list(filter: RunFilter): Promise<RunRow[]> {
    if (filter.sweepId !== undefined && !isUuid(filter.sweepId)) return Promise.resolve([]);
    return this.runs.findMany(filter, this.config.limits.maxListItems);
  }

  /** A sweep id that names nothing gives an empty page, as `runs(sweepId)` gives an empty list. */
  async page(filter: RunFilter, first?: number | null, after?: string | null): Promise<Page<RunRow>> {
    const query = pageQuery(first, after);
    if (filter.sweepId !== undefined && !isUuid(filter.sweepId)) {
      return toPage(
        [],
        query,
        async () => 0,
        (row: RunRow) => row,
      );
    }
    return toPage(
      await this.runs.page(filter, query),
      query,
      () => this.runs.count(filter),
      (row) => row,
    );
  }

  /** A queued run is cancelled at once; a running one is flagged and its worker stops it within a batch. */
  async cancel(id: string): Promise<RunRow> {
    const run = await this.get(id);
    if (isFinal(run.status)) throw AppError.conflict(`run "${id}" has already ended (${run.status})`);
    if (await this.lifecycle.cancelQueued(id)) {
      await this.queue.remove({ runId: id, attempt: run.attempt }).catch(() => undefined);
      if (run.sweepId) await this.sweeps.advance(run.sweepId);
    } else {
      await this.lifecycle.requestCancel(id);
    }
    return this.get(id);
  }

  /** `maxPoints` (checked by MetricsArgs's rules: the first and last point are always kept) downsamples in SQL. */
  async metrics(runId: string, names?: string[], maxPoints?: number): Promise<MetricSeries[]> {
    const points =
      maxPoints === undefined
        ? await this.runs.metricPoints(runId, names)
        : await this.runs.downsampledMetricPoints(runId, names, maxPoints);
    const series = new Map<string, MetricSeries>();
    for (const point of points) {
      let entry = series.get(point.name);
      if (!entry) series.set(point.name, (entry = { name: point.name, points: [] }));
      entry.points.push(point);
    }
    return [...series.values()];
  }

  async checkpoints(runId: string): Promise<Checkpoint[]> {
    return (await this.runs.checkpoints(runId)).map(toCheckpoint);
  }

  async bestCheckpoint(run: { id: string; training: unknown }): Promise<Checkpoint | null> {
    const best = pickBestCheckpoint(await this.runs.checkpoints(run.id), run.training as unknown as TrainingConfig);
    return best ? toCheckpoint(best) : null;
  }
}
