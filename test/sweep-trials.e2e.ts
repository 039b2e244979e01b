/**
 * The sweep's incremental trial store (libs/domain/sweeps/sweep-trials.ts) on a real PostgreSQL, in one process,
 * against the pure rules fed the whole truth: random sweeps of trials that report epochs (ties, NaN, ±Infinity),
 * finish in random order with every outcome, and are settled as the scheduler settles them. Every pruning check
 * must answer what `shouldPrune` answers on the full history read from the runs and their metric points; the kept
 * medians must be the brute-force medians; the compact trials must be the records `trialHistory` makes of the runs.
 * Also the migration's backfill of sweeps made before the store existed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AppConfig } from '#libs/core/config';
import { applyMigrations, findMigrationsDir, PrismaService } from '#libs/core/db';
import {
  keepTrial,
  pruneCheck,
  settleTrials,
  trialHistory,
  trialRecord,
  trialRows,
  type TrialRunRow,
} from '#libs/domain/sweeps';
import { mulberry32, type Rng } from '#libs/pure/random';
import {
  type EarlyStoppingRule,
  type Goal,
  sampleRandom,
  type SearchSpace,
  shouldPrune,
  type TrialRecord,
} from '#libs/pure/search';

import { databaseUrl, dropDatabase } from './support/postgres.js';

const STORE_MIGRATION = '20261129100000_sweep_trials';
const SPACE: SearchSpace = {
  lr: { type: 'loguniform', min: 1e-4, max: 0.1 },
  hidden: { type: 'int', min: 8, max: 64, step: 8 },
  act: { type: 'choice', values: ['relu', 'tanh', 3, true] },
  // sorts before "act" by its bytes, after it by JavaScript's integer-key order
  '10': { type: 'uniform', min: -1, max: 1 },
};
const METRIC = 'val_loss';

/** A value drawn so that ties are common and NaN and the infinities turn up. */
function drawValue(rng: Rng): number {
  const u = rng();
  if (u < 0.03) return NaN;
  if (u < 0.05) return rng() < 0.5 ? Infinity : -Infinity;
  if (u < 0.5) return [0.1, 0.2, 0.3, 0.5][Math.floor(rng() * 4)]!;
  return rng();
}

/** A database of its own, a dataset and a model to hang sweeps on. */
class Store {
  readonly name = `tas_sweeptrials_${randomBytes(4).toString('hex')}`;
  readonly url = databaseUrl(this.name);
  prisma!: PrismaService;
  datasetId = randomUUID();
  modelId = randomUUID();

  async open(migrationsDir?: string): Promise<void> {
    await applyMigrations(this.url, migrationsDir);
    this.prisma = new PrismaService({ databaseUrl: this.url } as AppConfig);
    await this.prisma.$executeRaw`
      INSERT INTO datasets (id, name, format, status, size_bytes)
      VALUES (${this.datasetId}::uuid, 'd', 'csv', 'READY', 1)`;
    await this.prisma.$executeRaw`
      INSERT INTO model_definitions (id, name, version, spec) VALUES (${this.modelId}::uuid, 'm', 1, '{}')`;
  }

  async close(): Promise<void> {
    await this.prisma?.onModuleDestroy();
    await dropDatabase(this.name);
  }

  async createSweep(rule: EarlyStoppingRule, goal: Goal): Promise<string> {
    const id = randomUUID();
    await this.prisma.$executeRaw`
      INSERT INTO sweeps (id, name, status, strategy, search_space, metric, goal, max_trials, parallelism,
                          early_stopping, training, seed, dataset_id, model_id)
      VALUES (${id}::uuid, 's', 'RUNNING', 'TPE', ${JSON.stringify(SPACE)}::jsonb, ${METRIC}, ${goal}::"Goal", 1000, 4,
              ${JSON.stringify(rule)}::jsonb, '{}', 1, ${this.datasetId}::uuid, ${this.modelId}::uuid)`;
    return id;
  }

  /** A trial's run as the scheduler creates it; `keep` false: a run made before the store existed. */
  async createTrial(sweepId: string, trialIndex: number, rng: Rng, keep = true): Promise<string> {
    const id = randomUUID();
    const params = sampleRandom(SPACE, rng);
    await this.prisma.$executeRaw`
      INSERT INTO runs (id, status, dataset_id, model_id, sweep_id, trial_index, hyperparameters, training)
      VALUES (${id}::uuid, 'RUNNING', ${this.datasetId}::uuid, ${this.modelId}::uuid, ${sweepId}::uuid, ${trialIndex},
              ${JSON.stringify(params)}::jsonb, '{}')`;
    if (keep) await keepTrial(this.prisma, { sweepId, trialIndex, runId: id, space: SPACE, params, failed: false });
    return id;
  }

  async report(runId: string, epoch: number, value: number): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO metric_points (run_id, name, step, epoch, value)
      VALUES (${runId}::uuid, ${METRIC}, ${epoch}, ${epoch}, ${String(value)}::float8)`;
  }

  /** Finishes the run (the summary holds the last value, or nothing) and settles as the scheduler does. */
  async finish(sweepId: string, runId: string, status: string, last: number | undefined): Promise<void> {
    const summary = last === undefined || !Number.isFinite(last) ? {} : { [METRIC]: last };
    await this.prisma.$executeRaw`
      UPDATE runs SET status = ${status}::"RunStatus", summary = ${JSON.stringify(summary)}::jsonb
      WHERE id = ${runId}::uuid`;
    await this.settle(sweepId);
  }

  async settle(sweepId: string): Promise<void> {
    const sweep = await this.prisma.sweep.findUniqueOrThrow({ where: { id: sweepId } });
    await this.prisma.$transaction((tx) => settleTrials(tx, sweep));
  }

  /** The truth as the pure rules see it: every run and every point. */
  async fullHistory(sweepId: string): Promise<TrialRecord[]> {
    const runs = (await this.prisma.run.findMany({ where: { sweepId } })) as TrialRunRow[];
    const points = await this.prisma.$queryRaw<{ runId: string; epoch: number; value: number }[]>`
      SELECT p.run_id AS "runId", p.epoch, p.value FROM metric_points p JOIN runs r ON r.id = p.run_id
      WHERE r.sweep_id = ${sweepId}::uuid AND p.name = ${METRIC} AND p.epoch = p.step`;
    const byRun = new Map<string, Record<number, number>>();
    for (const point of points) byRun.set(point.runId, { ...byRun.get(point.runId), [point.epoch]: point.value });
    const index = new Map(runs.map((run) => [run.trialIndex, run.id]));
    return trialHistory(runs, METRIC).map((trial) => ({ ...trial, intermediate: byRun.get(index.get(trial.index)!) }));
  }

  async medians(sweepId: string) {
    return this.prisma.$queryRaw<{ epoch: number; count: number; lowValue: number; highValue: number }[]>`
      SELECT epoch, count, low_value AS "lowValue", high_value AS "highValue"
      FROM sweep_epoch_medians WHERE sweep_id = ${sweepId}::uuid ORDER BY epoch`;
  }
}

/** The median's two middle values of the complete and pruned trials at each epoch, by brute force. */
function bruteMedians(history: TrialRecord[]) {
  const byEpoch = new Map<number, number[]>();
  for (const trial of history) {
    if (trial.state !== 'complete' && trial.state !== 'pruned') continue;
    for (const [epoch, value] of Object.entries(trial.intermediate ?? {})) {
      if (Number.isNaN(value)) continue;
      byEpoch.set(Number(epoch), [...(byEpoch.get(Number(epoch)) ?? []), value]);
    }
  }
  return [...byEpoch.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, values]) => {
      const sorted = values.sort((a, b) => a - b);
      const count = sorted.length;
      const [lowValue, highValue] = [sorted[Math.floor((count + 1) / 2) - 1]!, sorted[Math.floor(count / 2)]!];
      return { epoch, count, lowValue, highValue };
    });
}

/**
 * Trials run four at a time: each step one of them reports its next epoch and is checked (the store's answer
 * against the pure rule on the full truth), and sometimes ends: pruned when the check says so, else with a
 * random outcome. Returns how many checks said prune, so a test can see the rule was exercised.
 */
async function simulate(
  store: Store,
  sweepId: string,
  rule: EarlyStoppingRule,
  goal: Goal,
  seed: number,
  trials: number,
): Promise<{ pruned: number; checks: number }> {
  const rng = mulberry32(seed);
  const running: { runId: string; index: number; epoch: number; last?: number }[] = [];
  let next = 0;
  let pruned = 0;
  let checks = 0;
  while (next < trials || running.length > 0) {
    while (running.length < 4 && next < trials) {
      running.push({ runId: await store.createTrial(sweepId, next, rng), index: next, epoch: 0 });
      next++;
    }
    const slot = Math.floor(rng() * running.length);
    const trial = running[slot]!;
    trial.epoch++;
    trial.last = drawValue(rng);
    await store.report(trial.runId, trial.epoch, trial.last);
    const answer = await pruneCheck(store.prisma, trial.runId, sweepId, trial.epoch);
    const history = await store.fullHistory(sweepId);
    const own = history.find((record) => record.index === trial.index)!;
    const truth = shouldPrune(rule, { goal, trial: own, epoch: trial.epoch, history });
    expect(answer, `trial ${trial.index} epoch ${trial.epoch}`).toBe(truth);
    checks++;
    const u = rng();
    let status: string | null = null;
    if (answer) status = 'PRUNED';
    else if (trial.epoch >= 8 || u < 0.12) status = 'SUCCEEDED';
    else if (u < 0.15) status = 'FAILED';
    else if (u < 0.17) status = 'CANCELLED';
    if (status === null) continue;
    if (answer) pruned++;
    // now and then a trial succeeds without the objective in its summary: it counts as failed
    await store.finish(sweepId, trial.runId, status, rng() < 0.05 ? undefined : trial.last);
    running.splice(slot, 1);
  }
  return { pruned, checks };
}

describe('the sweep trial store against the pure rules', () => {
  const store = new Store();
  beforeAll(() => store.open());
  afterAll(() => store.close());

  it.each([
    ['median', 'MINIMIZE', { rule: 'median', minTrials: 3, warmupEpochs: 1 }],
    ['median', 'MAXIMIZE', { rule: 'median', minTrials: 1, warmupEpochs: 0 }],
    ['asha', 'MINIMIZE', { rule: 'asha', reductionFactor: 2, minEpochs: 1, maxEpochs: 8 }],
    ['hyperband', 'MAXIMIZE', { rule: 'hyperband', reductionFactor: 2, minEpochs: 1, maxEpochs: 8 }],
  ] as const)('%s, %s: every check answers as the rule on the whole history', async (_name, goal, rule) => {
    const sweepId = await store.createSweep(rule, goal);
    const { pruned, checks } = await simulate(store, sweepId, rule, goal, 7 + goal.length, 60);
    expect(pruned).toBeGreaterThan(0);
    expect(pruned).toBeLessThan(checks);
    const history = await store.fullHistory(sweepId);
    if (rule.rule === 'median') expect(await store.medians(sweepId)).toEqual(bruteMedians(history));
    // what TPE fits: the compact rows are the records trialHistory makes of the runs
    const kept = (await trialRows(store.prisma, sweepId)).map((row) => trialRecord(row, SPACE));
    expect(kept).toEqual(history.map(({ intermediate: _, ...trial }) => trial));
  });
});

describe('the migration that adds the store', () => {
  const store = new Store();
  const before = mkdtempSync(join(tmpdir(), 'tas-migrations-'));
  beforeAll(() => {
    const all = findMigrationsDir();
    for (const name of readdirSync(all)) {
      if (name < STORE_MIGRATION) cpSync(join(all, name), join(before, name), { recursive: true });
    }
    return store.open(before);
  });
  afterAll(async () => {
    await store.close();
    rmSync(before, { recursive: true, force: true });
  });

  it('backfills the trials, the values and the medians of the sweeps made before it', async () => {
    const rng = mulberry32(5);
    const rules: [EarlyStoppingRule, Goal][] = [
      [{ rule: 'median', minTrials: 2, warmupEpochs: 0 }, 'MINIMIZE'],
      [{ rule: 'asha', reductionFactor: 2, minEpochs: 1, maxEpochs: 6 }, 'MAXIMIZE'],
    ];
    const sweeps: string[] = [];
    for (const [rule, goal] of rules) {
      const sweepId = await store.createSweep(rule, goal);
      sweeps.push(sweepId);
      for (let index = 0; index < 40; index++) {
        const runId = await store.createTrial(sweepId, index, rng, false);
        let last: number | undefined;
        const epochs = 1 + Math.floor(rng() * 6);
        for (let epoch = 1; epoch <= epochs; epoch++) await store.report(runId, epoch, (last = drawValue(rng)));
        const status = ['SUCCEEDED', 'PRUNED', 'FAILED', 'CANCELLED', 'RUNNING'][Math.floor(rng() * 5)]!;
        const summary = rng() < 0.1 || last === undefined || !Number.isFinite(last) ? {} : { [METRIC]: last };
        await store.prisma.$executeRaw`
          UPDATE runs SET status = ${status}::"RunStatus", summary = ${JSON.stringify(summary)}::jsonb
          WHERE id = ${runId}::uuid`;
      }
    }
    await applyMigrations(store.url);
    for (const [position, sweepId] of sweeps.entries()) {
      const history = await store.fullHistory(sweepId);
      const kept = (await trialRows(store.prisma, sweepId)).map((row) => trialRecord(row, SPACE));
      expect(kept).toEqual(history.map(({ intermediate: _, ...trial }) => trial));
      const medians = await store.medians(sweepId);
      if (rules[position]![0].rule === 'median') {
        expect(medians.length).toBeGreaterThan(0);
        expect(medians).toEqual(bruteMedians(history));
      } else {
        expect(medians).toEqual([]);
        // asha compares every trial not failed: exactly those have values, at every epoch they reported
        const [{ n }] = await store.prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM sweep_epoch_values WHERE sweep_id = ${sweepId}::uuid`;
        const expected = history
          .filter((trial) => trial.state !== 'failed')
          .flatMap((trial) => Object.values(trial.intermediate ?? {}))
          .filter((value) => !Number.isNaN(value)).length;
        expect(n).toBe(expected);
      }
    }
  });
});
