import { randomInt, randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import type { Prisma } from '#libs/core/db';
import { AppError, isUuid } from '#libs/core/errors';
import { type Page, pageQuery, toPage } from '#libs/core/pagination';
import { DatasetsService } from '#libs/domain/datasets';
import { ModelsService } from '#libs/domain/models';
import type { RunRow } from '#libs/domain/runs';
import {
  GP_MAX_TRIALS,
  parseEarlyStopping,
  parseSearchSpace,
  parseStrategyOptions,
  pedAnovaImportance,
  type SearchSpace,
  suggest,
  suggestOptions,
} from '#libs/pure/search';
import { collectReferences, planRun, referableTraining } from '#libs/pure/training';

import type { CreateSweepInput, Sweep } from './dto/sweep.type.js';
import { bestRunId, reportedMetrics, trialHistory } from './sweep-history.js';
import { SweepScheduler } from './sweep-scheduler.service.js';
import { type SweepRow, SweepsRepository } from './sweeps.repository.js';

export const DEFAULT_PARALLELISM = 2;

export function toSweep(row: SweepRow): Sweep {
  return { ...row, objective: { metric: row.metric, goal: row.goal } };
}

@Injectable()
export class SweepsService {
  constructor(
    private readonly sweeps: SweepsRepository,
    private readonly datasets: DatasetsService,
    private readonly models: ModelsService,
    private readonly scheduler: SweepScheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Checks the whole sweep before writing it (its scalar fields are checked by CreateSweepInput's rules): the space
   * against the spec's references, the objective against what runs report, one planned trial.
   */
  async create(input: CreateSweepInput): Promise<Sweep> {
    const name = input.name.trim();
    const parallelism = input.parallelism ?? DEFAULT_PARALLELISM;
    if (input.strategy === 'GP' && input.maxTrials > GP_MAX_TRIALS)
      throw AppError.badInput(
        `maxTrials: a GP sweep takes at most ${GP_MAX_TRIALS} trials (each suggestion refits the Gaussian process on ` +
          `every finished trial, which grows with their cube); use TPE for longer sweeps, got ${input.maxTrials}`,
      );
    const dataset = await this.datasets.get(input.datasetId);
    if (dataset.status !== 'READY')
      throw AppError.badInput(`datasetId: dataset "${dataset.id}" is ${dataset.status}, not READY`);
    const model = await this.models.get(input.modelId);

    const space = parseSearchSpace(input.searchSpace, input.strategy);
    const references = collectReferences(referableTraining(input.training), collectReferences(model.spec));
    for (const reference of references) {
      if (!(reference in space))
        throw AppError.badInput(
          `searchSpace: the model spec refers to $${reference}, but the search space has no parameter "${reference}"`,
        );
    }
    for (const parameter of Object.keys(space)) {
      if (!references.has(parameter))
        throw AppError.badInput(
          `searchSpace.${parameter} is not used by the model spec (it refers to: ` +
            `${[...references].map((r) => `$${r}`).join(', ') || 'none'})`,
        );
    }
    const options = parseStrategyOptions(input.options, input.strategy, input.maxTrials);
    const seed = input.seed ?? randomInt(2 ** 31 - 1);
    // One concrete trial, planned now, catches a bad training config or target before anything is written.
    const first =
      suggest({
        strategy: input.strategy,
        space,
        goal: input.objective.goal,
        seed,
        trialIndex: 0,
        history: [],
        maxTrials: input.maxTrials,
        ...suggestOptions(input.strategy, options),
      }) ?? {};
    const plan = planRun(
      model.spec,
      first,
      input.training,
      this.datasets.columns(dataset),
      seed,
      this.config.limits.maxModelParams,
    );
    const earlyStopping = parseEarlyStopping(input.earlyStopping ?? null, input.strategy, plan.training.epochs);
    const reported = reportedMetrics((model.spec as { metrics?: unknown }).metrics, plan.training.validationSplit);
    if (!reported.includes(input.objective.metric)) {
      throw AppError.badInput(
        `objective.metric "${input.objective.metric}" is not reported by runs of this model (they report: ` +
          `${reported.join(', ')})`,
      );
    }
    const row = await this.sweeps.create({
      id: randomUUID(),
      name,
      status: 'RUNNING',
      strategy: input.strategy,
      searchSpace: space as Prisma.InputJsonValue,
      metric: input.objective.metric,
      goal: input.objective.goal,
      maxTrials: input.maxTrials,
      parallelism,
      earlyStopping: (earlyStopping ?? undefined) as Prisma.InputJsonValue | undefined,
      training: input.training as Prisma.InputJsonValue,
      seed,
      options: (options ?? undefined) as Prisma.InputJsonValue | undefined,
      datasetId: dataset.id,
      modelId: model.id,
    });
    await this.scheduler.advance(row.id);
    return toSweep((await this.sweeps.findById(row.id))!);
  }

  async get(id: string): Promise<Sweep> {
    const row = isUuid(id) ? await this.sweeps.findById(id) : null;
    if (!row) throw AppError.notFound('sweep', id);
    return toSweep(row);
  }

  async find(id: string): Promise<Sweep | null> {
    const row = isUuid(id) ? await this.sweeps.findById(id) : null;
    return row ? toSweep(row) : null;
  }

  /** The newest sweeps, at most MAX_LIST_ITEMS of them: sweepsPage pages through all. */
  async list(): Promise<Sweep[]> {
    return (await this.sweeps.findAll(this.config.limits.maxListItems)).map(toSweep);
  }

  async page(first?: number | null, after?: string | null): Promise<Page<Sweep>> {
    const query = pageQuery(first, after);
    return toPage(await this.sweeps.page(query), query, () => this.sweeps.count(), toSweep);
  }

  /** The sweep's trials in trial order; past MAX_LIST_ITEMS only the latest (Sweep.runsPage pages through all). */
  runs(sweepId: string): Promise<RunRow[]> {
    return this.sweeps.latestTrialRuns(sweepId, this.config.limits.maxListItems);
  }

  async bestRun(sweep: Sweep): Promise<RunRow | null> {
    const runs = await this.sweeps.trialRuns(sweep.id);
    const id = bestRunId(runs, sweep.objective.metric, sweep.objective.goal);
    return runs.find((run) => run.id === id) ?? null;
  }

  /** PED-ANOVA importance of each parameter over the finished trials (null below 10 of them). */
  async importance(sweep: Sweep & { searchSpace: unknown }): Promise<Record<string, number> | null> {
    const runs = await this.sweeps.trialRuns(sweep.id);
    const history = trialHistory(runs, sweep.objective.metric);
    return pedAnovaImportance(sweep.searchSpace as SearchSpace, history, sweep.objective.goal);
  }

  async cancel(id: string): Promise<Sweep> {
    const sweep = await this.get(id);
    if (sweep.status !== 'RUNNING') throw AppError.conflict(`sweep "${id}" has already ended (${sweep.status})`);
    await this.scheduler.cancel(id);
    return this.get(id);
  }
}
