/**
 * The synthetic objectives of `npm run bench:search` (with known optima) and a simulated sweep loop.
 * bench/optuna_peer.py holds the same functions for Optuna: keep the two in step.
 */
import { type Params, type SearchSpace, suggest, type SuggestContext, type TrialRecord } from '#libs/pure/search';

export interface Objective {
  name: string;
  description: string;
  space: SearchSpace;
  optimum: number;
  f(p: Params): number;
}

export const branin: Objective = {
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

export const hartmann6: Objective = {
  name: 'hartmann6',
  description: 'Hartmann-6, x ∈ [0, 1]^6, global minimum −3.32237',
  space: Object.fromEntries(
    [1, 2, 3, 4, 5, 6].map((i) => [`x${i}`, { type: 'uniform', min: 0, max: 1 }]),
  ) as SearchSpace,
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

export const mixed: Objective = {
  name: 'mixed',
  description:
    'optimizer ∈ {sgd,momentum,adam,rmsprop,adagrad} (offsets .6,.35,0,.15,.8) + 0.05·(layers−4)² (int 1..12) + ' +
    '0.5·(log2 units − log2 192)² (int 16..512 step 16) + 4·(dropout − 0.2)² (uniform 0..0.7) + ' +
    '0.1·(log10 lr + 3)² (loguniform 1e-5..1e-1); minimum 0 at (adam, 4, 192, 0.2, 1e-3)',
  space: {
    optimizer: { type: 'choice', values: ['sgd', 'momentum', 'adam', 'rmsprop', 'adagrad'] },
    layers: { type: 'int', min: 1, max: 12 },
    units: { type: 'int', min: 16, max: 512, step: 16 },
    dropout: { type: 'uniform', min: 0, max: 0.7 },
    lr: { type: 'loguniform', min: 1e-5, max: 1e-1 },
  },
  optimum: 0,
  f: (p) =>
    OPTIMIZER_OFFSET[p.optimizer as string]! +
    0.05 * ((p.layers as number) - 4) ** 2 +
    0.5 * (Math.log2(p.units as number) - Math.log2(192)) ** 2 +
    4 * ((p.dropout as number) - 0.2) ** 2 +
    0.1 * (Math.log10(p.lr as number) + 3) ** 2,
};

export const OBJECTIVES = [branin, hartmann6, mixed];

export type SweepOptions = Pick<SuggestContext, 'strategy'> & Partial<Pick<SuggestContext, 'tpe' | 'gp'>>;

/**
 * Runs one simulated sweep of `trials` trials with `parallelism` in flight: the first `parallelism`
 * suggestions see each other as pending; afterwards the oldest in-flight trial completes before each new
 * suggestion. Returns the regret of the best value found (best − optimum) and the milliseconds of suggest().
 */
export function runSweep(
  obj: Objective,
  opts: SweepOptions,
  seed: number,
  trials: number,
  parallelism = 1,
): { regret: number; suggestMs: number } {
  const history: TrialRecord[] = [];
  let best = Infinity;
  let suggestMs = 0;
  let next = 0;
  const complete = () => {
    const t = history.find((h) => h.state === 'pending');
    if (!t) return;
    t.state = 'complete';
    t.value = obj.f(t.params);
    if (t.value < best) best = t.value;
  };
  while (next < trials) {
    while (history.filter((h) => h.state === 'pending').length >= parallelism) complete();
    const t0 = performance.now();
    const params = suggest({
      ...opts,
      space: obj.space,
      goal: 'MINIMIZE',
      seed,
      trialIndex: next,
      history,
      maxTrials: trials,
    });
    suggestMs += performance.now() - t0;
    if (!params) break;
    history.push({ index: next, params, state: 'pending' });
    next++;
  }
  while (history.some((h) => h.state === 'pending')) complete();
  return { regret: best - obj.optimum, suggestMs };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
