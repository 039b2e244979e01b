/**
 * What bounding TPE's g(x) (`aboveKernels`, libs/pure/search/tpe.ts) does to search quality:
 *
 *   npm run build && node dist/bench/search-long.js            (BENCH_LONG_SEEDS, default 8)
 *
 * 1. At the search bench's size nothing changes: the TPE variants of bench:search (seeds 1000..1019 × 50 trials,
 *    sequential and 4 in flight, every function) are run again and each regret compared with
 *    bench/results/search.json (TPE as createSweep stores it now carries the cap; the other two do not).
 * 2. Long sweeps, where the cap drops trials: TPE as createSweep stores it, with the cap and without it, on Branin
 *    (1,500 trials) and Hartmann-6 (1,000 trials), seeds 5000.. (held out from every tuning): the median regret
 *    over seeds at checkpoints, and milliseconds per suggestion at the end.
 * Writes bench/results/search-long.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';

import { parseStrategyOptions, suggest, suggestOptions, type TrialRecord } from '#libs/pure/search';

import {
  branin,
  hartmann6,
  median,
  type Objective,
  OBJECTIVES,
  runSweep,
  type SweepOptions,
} from './search-objectives.js';

const SEEDS = Number(process.env.BENCH_LONG_SEEDS ?? 8);
const round = (x: number, d = 4) => Number(x.toPrecision(d));

function unchangedAt50(): { same: number; differ: number } {
  const recorded = JSON.parse(
    readFileSync(resolve(import.meta.dirname, '..', '..', 'bench', 'results', 'search.json'), 'utf8'),
  );
  const variants: Record<string, SweepOptions> = {
    tpe: { strategy: 'TPE' },
    tpeMultivariate: { strategy: 'TPE', tpe: { multivariate: true } },
    tpeSweep: { strategy: 'TPE', ...suggestOptions('TPE', parseStrategyOptions({}, 'TPE', 50)) },
  };
  let same = 0;
  let differ = 0;
  for (const obj of OBJECTIVES) {
    for (const [mode, parallelism] of [
      ['sequential', 1],
      ['parallel4', 4],
    ] as const) {
      for (const [name, opts] of Object.entries(variants)) {
        const was: number[] = recorded.functions[obj.name][mode][name].regrets;
        for (let s = 0; s < 20; s++) {
          const now = round(runSweep(obj, opts, 1000 + s, 50, parallelism).regret);
          if (now === was[s]) same++;
          else {
            differ++;
            console.log(`differs: ${obj.name} ${mode} ${name} seed ${1000 + s}: ${now} (recorded ${was[s]})`);
          }
        }
      }
    }
  }
  console.log(`at 50 trials: ${same} regrets as recorded, ${differ} different (of ${same + differ})`);
  return { same, differ };
}

/** One sequential sweep: the best value after each checkpoint, and the ms of the last 50 suggestions. */
function longSweep(obj: Objective, opts: SweepOptions, seed: number, trials: number, checkpoints: number[]) {
  const history: TrialRecord[] = [];
  let best = Infinity;
  const regrets: number[] = [];
  let lastMs = 0;
  for (let i = 0; i < trials; i++) {
    const began = performance.now();
    const params = suggest({
      ...opts,
      space: obj.space,
      goal: 'MINIMIZE',
      seed,
      trialIndex: i,
      history,
      maxTrials: trials,
    })!;
    if (i >= trials - 50) lastMs += performance.now() - began;
    const value = obj.f(params);
    best = Math.min(best, value);
    history.push({ index: i, params, state: 'complete', value });
    if (checkpoints.includes(i + 1)) regrets.push(best - obj.optimum);
  }
  return { regrets, msPerSuggestAtEnd: lastMs / 50 };
}

function longSweeps(): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  const stored = suggestOptions('TPE', parseStrategyOptions({}, 'TPE', 1000));
  const capped: SweepOptions = { strategy: 'TPE', ...stored };
  const uncapped: SweepOptions = { strategy: 'TPE', tpe: { ...stored.tpe, aboveKernels: Infinity } };
  for (const [obj, trials] of [
    [branin, 1500],
    [hartmann6, 1000],
  ] as const) {
    const checkpoints = [250, 500, trials];
    const out: Record<string, unknown> = {};
    for (const [name, opts] of Object.entries({ capped, uncapped })) {
      const runs = Array.from({ length: SEEDS }, (_, s) => longSweep(obj, opts, 5000 + s, trials, checkpoints));
      out[name] = {
        medianRegretAt: Object.fromEntries(
          checkpoints.map((c, k) => [c, round(median(runs.map((r) => r.regrets[k]!)))]),
        ),
        regretsAtEnd: runs.map((r) => round(r.regrets.at(-1)!)),
        msPerSuggestAtEnd: round(median(runs.map((r) => r.msPerSuggestAtEnd)), 3),
      };
    }
    console.log(`${obj.name}, ${trials} trials, ${SEEDS} seeds: ${JSON.stringify(out)}`);
    results[`${obj.name}:${trials}`] = out;
  }
  return results;
}

const loadAtStart = loadavg();
const at50 = unchangedAt50();
const long = longSweeps();
const out = resolve(import.meta.dirname, '..', '..', 'bench', 'results', 'search-long.json');
const result = {
  date: new Date().toISOString(),
  cpus: cpus().length,
  loadAverageAtStart: loadAtStart.map((load) => round(load, 3)),
  loadAverageAtEnd: loadavg().map((load) => round(load, 3)),
  seedsLong: SEEDS,
  firstSeedLong: 5000,
  options: 'TPE as createSweep stores it (multivariate, tuned estimator); capped: aboveKernels 250, uncapped: Infinity',
  at50TrialsAsRecordedInSearchJson: at50,
  long,
};
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${out}`);
