/**
 * A TPE sweep with a bounded g(x) (`aboveKernels`) reads only a window of its trial store per suggestion
 * (libs/domain/sweeps/sweep-trials.ts, suggestTpeFromStore): these hold it to suggestTpe on the sweep's whole
 * history, on stores far larger than the window, with every outcome a trial can have, ties, both goals, and small
 * discrete spaces where the store answers whether a candidate is taken.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  encodeParams,
  observedTrials,
  suggestTpeFromStore,
  tpeWindowRows,
  trialRecord,
  trialRows,
  type TrialRunStatus,
} from '#libs/domain/sweeps';
import { mulberry32 } from '#libs/pure/random';
import {
  type Goal,
  type Params,
  type SearchSpace,
  suggest,
  tpeWindow,
  tpeWindowOf,
  TUNED_JOINT_ESTIMATOR,
} from '#libs/pure/search';

import { MediumDb } from './medium-db.js';

interface StoredTrial {
  params: Params;
  outcome: TrialRunStatus | null;
  objective: number | null;
}

describe("a bounded TPE's window of the trial store", () => {
  let db: MediumDb;

  beforeAll(async () => {
    db = await MediumDb.create();
  });
  afterAll(() => db?.close());

  /** Writes the trials of a new sweep straight into the store (no sweep or runs behind them: the reads need none). */
  async function store(space: SearchSpace, trials: StoredTrial[]): Promise<string> {
    const sweepId = randomUUID();
    await db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL session_replication_role = replica');
      for (const [index, trial] of trials.entries()) {
        const params = encodeParams(space, trial.params).map((value) => (value === null ? null : String(value)));
        await tx.$executeRaw`
          INSERT INTO sweep_trials (sweep_id, trial_index, run_id, outcome, objective, params)
          VALUES (${sweepId}::uuid, ${index}, ${randomUUID()}::uuid, ${trial.outcome}::"RunStatus",
                  ${trial.objective}, ${params}::float8[])`;
      }
    });
    return sweepId;
  }

  /** Every outcome: running, pruned with and without a value, succeeded with and without one, failed, cancelled. */
  function outcomes(rng: () => number, index: number, total: number, value: number): Omit<StoredTrial, 'params'> {
    // objectives on a coarse grid: ties between trials, broken by the trial index
    const objective = Math.round(value * 10) / 10;
    if (index >= total - 2) return { outcome: null, objective: null };
    const u = rng();
    if (u < 0.03) return { outcome: 'FAILED', objective: null };
    if (u < 0.05) return { outcome: 'CANCELLED', objective: null };
    if (u < 0.08) return { outcome: 'SUCCEEDED', objective: null };
    if (u < 0.12) return { outcome: 'PRUNED', objective: null };
    if (u < 0.6) return { outcome: 'PRUNED', objective: objective + 1 };
    return { outcome: 'SUCCEEDED', objective };
  }

  async function expectSameAsWholeHistory(space: SearchSpace, sweepId: string, goal: Goal, aboveKernels: number) {
    const rows = await trialRows(db.prisma, sweepId);
    const history = rows.map((row) => trialRecord(row, space));
    const input = {
      space,
      goal,
      seed: 13,
      trialIndex: history.length,
      maxTrials: 5000,
      tpe: { ...TUNED_JOINT_ESTIMATOR, multivariate: true, nStartupTrials: 10, aboveKernels },
    };
    const window = tpeWindow(input.tpe, input.maxTrials)!;
    const expected = tpeWindowOf(history, input.trialIndex, goal, window);
    const read = await tpeWindowRows(db.prisma, sweepId, goal, window);
    expect(read.map((row) => row.trialIndex)).toEqual(expected.history.map((t) => t.index));
    expect(await observedTrials(db.prisma, sweepId, window.observedCap)).toBe(expected.observed);
    const fromStore = await suggestTpeFromStore(db.prisma, input, sweepId, window);
    expect(fromStore).toEqual(suggest({ strategy: 'TPE', ...input, history }));
    return { fromStore, windowSize: read.length, trials: rows.length };
  }

  it.each(['MINIMIZE', 'MAXIMIZE'] as const)(
    '%s: the window read from the store is the one tpeWindowOf takes, and so is the suggestion',
    async (goal) => {
      const space: SearchSpace = {
        lr: { type: 'loguniform', min: 1e-4, max: 0.1 },
        hidden: { type: 'int', min: 8, max: 64, step: 8 },
        act: { type: 'choice', values: ['relu', 'tanh', 'gelu'] },
      };
      for (const total of [30, 600]) {
        const rng = mulberry32(total);
        const trials = Array.from({ length: total }, (_, index): StoredTrial => {
          const params = {
            lr: Math.exp(Math.log(1e-4) + rng() * Math.log(1000)),
            hidden: 8 + 8 * Math.floor(rng() * 8),
            act: ['relu', 'tanh', 'gelu'][Math.floor(rng() * 3)]!,
          };
          const value = (Math.log10(params.lr) + 2) ** 2 + ((params.hidden - 24) / 16) ** 2;
          return { params, ...outcomes(rng, index, total, value) };
        });
        const { windowSize, trials: stored } = await expectSameAsWholeHistory(
          space,
          await store(space, trials),
          goal,
          40,
        );
        if (total === 600) expect(windowSize).toBeLessThan(stored / 4);
      }
    },
  );

  it('a small discrete space: the store says which candidates are taken, failed trials taking none', async () => {
    const space: SearchSpace = {
      a: { type: 'choice', values: ['x', 'y', 'z'] },
      b: { type: 'int', min: 1, max: 3 },
    };
    const points = ['x', 'y', 'z'].flatMap((a) => [1, 2, 3].map((b) => ({ a, b })));
    const rng = mulberry32(3);
    // 8 of the 9 points taken many times over; the ninth only by failed trials
    const trials = Array.from({ length: 120 }, (_, index): StoredTrial => {
      if (index % 10 === 9) return { params: points[8]!, outcome: 'FAILED', objective: null };
      const params = points[index % 8]!;
      const value = (params.b - 2) ** 2 + (params.a === 'y' ? 0 : 0.5) + rng();
      return { params, outcome: index % 3 ? 'PRUNED' : 'SUCCEEDED', objective: value };
    });
    const sweepId = await store(space, trials);
    const { fromStore } = await expectSameAsWholeHistory(space, sweepId, 'MINIMIZE', 25);
    expect(fromStore).toEqual(points[8]); // the only free point
    // every point taken: repeats are unavoidable, and the first candidate is the suggestion
    const full = await store(space, [...trials, { params: points[8]!, outcome: 'SUCCEEDED', objective: 3 }]);
    await expectSameAsWholeHistory(space, full, 'MINIMIZE', 25);
  });
});
