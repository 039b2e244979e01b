/**
 * TPE vs RANDOM on synthetic objectives with known optima.
 *
 *   npm run bench:search      (build, then node dist/bench/search.bench.js)
 *
 * Each (function, strategy, seed) runs a sequential sweep of TRIALS trials (each trial is
 * completed before the next suggestion). Reports, per function and strategy, the median over
 * seeds of the regret of the best value found (best − optimum), and random/tpe.
 * Writes bench/results/search.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { suggest, type Params, type SearchSpace, type TrialRecord } from '../libs/search/src/index.js';

const SEEDS = 20;
const TRIALS = 50;

interface Objective {
  name: string;
  description: string;
  space: SearchSpace;
  optimum: number;
  f(p: Params): number;
}

const branin: Objective = {
  name: 'branin',
  description: 'Branin-Hoo, x1 ∈ [-5, 10], x2 ∈ [0, 15], 3 global minima of 0.397887',
  space: { x1: { type: 'uniform', min: -5, max: 10 }, x2: { type: 'uniform', min: 0, max: 15 } },
  optimum: 0.397887,
  f: (p) => {
    const x1 = p.x1 as number;
    const x2 = p.x2 as number;
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
};

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

const hartmann6: Objective = {
  name: 'hartmann6',
  description: 'Hartmann-6, x ∈ [0, 1]^6, global minimum −3.32237',
  space: Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`x${i}`, { type: 'uniform', min: 0, max: 1 }])) as SearchSpace,
  optimum: -3.32237,
  f: (p) => {
    let s = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 6; j++) inner += H_A[i]![j]! * ((p[`x${j + 1}`] as number) - H_P[i]![j]!) ** 2;
      s += H_ALPHA[i]! * Math.exp(-inner);
    }
    return -s;
  },
};

const OPTIMIZER_OFFSET: Record<string, number> = { sgd: 0.6, momentum: 0.35, adam: 0, rmsprop: 0.15, adagrad: 0.8 };

const mixed: Objective = {
  name: 'mixed',
  description:
    'optimizer ∈ {sgd,momentum,adam,rmsprop,adagrad} (offsets .6,.35,0,.15,.8) + 0.05·(layers−4)² (int 1..12) + ' +
    '0.5·(log2 units − log2 192)² (int 16..512 step 16) + 4·(dropout − 0.2)² (uniform 0..0.7); minimum 0 at (adam, 4, 192, 0.2)',
  space: {
    optimizer: { type: 'choice', values: ['sgd', 'momentum', 'adam', 'rmsprop', 'adagrad'] },
    layers: { type: 'int', min: 1, max: 12 },
    units: { type: 'int', min: 16, max: 512, step: 16 },
    dropout: { type: 'uniform', min: 0, max: 0.7 },
  },
  optimum: 0,
  f: (p) =>
    OPTIMIZER_OFFSET[p.optimizer as string]! +
    0.05 * ((p.layers as number) - 4) ** 2 +
    0.5 * (Math.log2(p.units as number) - Math.log2(192)) ** 2 +
    4 * ((p.dropout as number) - 0.2) ** 2,
};

function runSweep(obj: Objective, strategy: 'RANDOM' | 'TPE', seed: number): number {
  const history: TrialRecord[] = [];
  let best = Infinity;
  for (let i = 0; i < TRIALS; i++) {
    const params = suggest({ strategy, space: obj.space, goal: 'MINIMIZE', seed, trialIndex: i, history, maxTrials: TRIALS });
    if (!params) break;
    const value = obj.f(params);
    history.push({ index: i, params, state: 'complete', value });
    if (value < best) best = value;
  }
  return best - obj.optimum;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x: number, d = 6) => Number(x.toPrecision(d));

const results: Record<string, unknown> = {};
const rows: string[][] = [];
let allWin = true;
const t0 = performance.now();
for (const obj of [branin, hartmann6, mixed]) {
  const per: Record<string, { medianRegret: number; meanRegret: number; winsOverOther: number; regrets: number[]; ms: number }> = {};
  const regrets: Record<string, number[]> = {};
  for (const strategy of ['RANDOM', 'TPE'] as const) {
    const t = performance.now();
    regrets[strategy] = Array.from({ length: SEEDS }, (_, s) => runSweep(obj, strategy, 1000 + s));
    per[strategy] = { medianRegret: 0, meanRegret: 0, winsOverOther: 0, regrets: [], ms: performance.now() - t };
  }
  for (const strategy of ['RANDOM', 'TPE'] as const) {
    const mine = regrets[strategy]!;
    const other = regrets[strategy === 'TPE' ? 'RANDOM' : 'TPE']!;
    per[strategy] = {
      ...per[strategy]!,
      medianRegret: round(median(mine)),
      meanRegret: round(mean(mine)),
      winsOverOther: mine.filter((r, i) => r < other[i]!).length,
      regrets: mine.map((r) => round(r, 4)),
    };
  }
  const ratio = per.RANDOM!.medianRegret / per.TPE!.medianRegret;
  if (!(per.TPE!.medianRegret < per.RANDOM!.medianRegret)) allWin = false;
  results[obj.name] = {
    description: obj.description,
    optimum: obj.optimum,
    random: { medianRegret: per.RANDOM!.medianRegret, meanRegret: per.RANDOM!.meanRegret, seedsWon: per.RANDOM!.winsOverOther, regrets: per.RANDOM!.regrets },
    tpe: { medianRegret: per.TPE!.medianRegret, meanRegret: per.TPE!.meanRegret, seedsWon: per.TPE!.winsOverOther, regrets: per.TPE!.regrets },
    ratioRandomOverTpe: round(ratio, 4),
    msPerSweep: { random: round(per.RANDOM!.ms / SEEDS, 3), tpe: round(per.TPE!.ms / SEEDS, 3) },
  };
  rows.push([obj.name, String(obj.optimum), per.RANDOM!.medianRegret.toPrecision(4), per.TPE!.medianRegret.toPrecision(4), ratio.toFixed(2), `${per.TPE!.winsOverOther}/${SEEDS}`]);
}

const out = {
  benchmark: 'search',
  date: new Date().toISOString(),
  node: process.version,
  seeds: SEEDS,
  trialsPerSweep: TRIALS,
  mode: 'sequential (each trial completed before the next suggest), goal MINIMIZE',
  metric: 'median over seeds of regret = best value found − known optimum',
  tpe: 'defaults: nStartupTrials = min(10, max(2, floor(maxTrials/5))) = 10, nEiCandidates 24, gamma min(ceil(0.1n),25), prior weight 1, magic clip, no endpoints',
  totalSeconds: round((performance.now() - t0) / 1000, 4),
  tpeBeatsRandomEverywhere: allWin,
  functions: results,
};

const path = resolve(process.cwd(), 'bench/results/search.json');
mkdirSync(dirname(path), { recursive: true });
writeFileSync(path, JSON.stringify(out, null, 2) + '\n');

const header = ['function', 'optimum', 'random median regret', 'tpe median regret', 'random/tpe', 'tpe wins'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`search bench: ${SEEDS} seeds × ${TRIALS} trials, sequential`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(`wrote ${path}`);
if (!allWin) {
  console.error('TPE did not beat RANDOM on every function');
  process.exitCode = 1;
}
