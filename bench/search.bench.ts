/**
 * Search strategies on synthetic objectives with known optima, side by side with Optuna.
 *
 *   npm run bench:search                 (build, then node dist/bench/search.bench.js)
 *   BENCH_OPTUNA5_PATH=/path/to/optuna-source npm run bench:search   (also runs that Optuna, e.g. 5.0 from git)
 *
 * - Regret: each (function, strategy, seed) runs a sweep of TRIALS trials; sequential (parallelism 1) and with
 *   4 trials in flight (the oldest completes before each new suggestion). Reported: the median over seeds of
 *   the regret of the best value found (best − optimum).
 * - Strategies: RANDOM, TPE (library default: Optuna's independent TPE), TPE multivariate with Optuna's
 *   estimator (what new sweeps got before), TPE as createSweep stores it now (multivariate, tuned estimator:
 *   libs/pure/search/options.ts), GP. Peers: bench/optuna_peer.py with /usr/bin/python3 (Debian's Optuna) and, when
 *   BENCH_OPTUNA5_PATH is set, the Optuna source tree there (run with PYTHONPATH).
 * - Cost: milliseconds per suggestion of GP and TPE with 500 finished trials (hartmann6 and mixed spaces).
 * - PED-ANOVA: our importance against Optuna's PedAnovaImportanceEvaluator on a 200-trial random sweep of the
 *   mixed function (needs an Optuna with PED-ANOVA: Debian's 3.1 has none, so only with BENCH_OPTUNA5_PATH).
 * Writes bench/results/search.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';

import { mulberry32 } from '#libs/pure/random';
import {
  parseStrategyOptions,
  pedAnovaImportance,
  sampleRandom,
  suggest,
  suggestOptions,
  type TrialRecord,
} from '#libs/pure/search';

import { median, mixed, type Objective, OBJECTIVES, runSweep, type SweepOptions } from './search-objectives.js';

const SEEDS = 20;
const TRIALS = 50;
const FIRST_SEED = 1000;
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const OPTUNA5 = process.env.BENCH_OPTUNA5_PATH;
const round = (x: number, d = 4) => Number(x.toPrecision(d));

/** What createSweep stores for a TPE sweep of TRIALS trials given no options. */
const SWEEP_TPE_OPTIONS = parseStrategyOptions({}, 'TPE', TRIALS);

const OURS: Record<string, SweepOptions> = {
  random: { strategy: 'RANDOM' },
  tpe: { strategy: 'TPE' },
  tpeMultivariate: { strategy: 'TPE', tpe: { multivariate: true } },
  tpeSweep: { strategy: 'TPE', ...suggestOptions('TPE', SWEEP_TPE_OPTIONS) },
  gp: { strategy: 'GP' },
};

interface PeerResult {
  optuna: string;
  results: Record<string, Record<string, number[]>>;
}

function runPeer(pythonPath?: string): PeerResult | { error: string } {
  try {
    const out = execFileSync(
      PYTHON,
      [
        'bench/optuna_peer.py',
        '--seeds',
        String(SEEDS),
        '--trials',
        String(TRIALS),
        '--first-seed',
        String(FIRST_SEED),
      ],
      {
        env: { ...process.env, ...(pythonPath ? { PYTHONPATH: pythonPath } : {}) },
        maxBuffer: 64 << 20,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return JSON.parse(out.toString()) as PeerResult;
  } catch (error) {
    return { error: String((error as Error).message).split('\n')[0]! };
  }
}

function regretSet(
  obj: Objective,
  opts: SweepOptions,
  parallelism: number,
): { regrets: number[]; msPerSuggest: number } {
  let ms = 0;
  const regrets = Array.from({ length: SEEDS }, (_, s) => {
    const r = runSweep(obj, opts, FIRST_SEED + s, TRIALS, parallelism);
    ms += r.suggestMs;
    return r.regret;
  });
  return { regrets, msPerSuggest: ms / (SEEDS * TRIALS) };
}

/**
 * One suggestion with `n` finished random trials (and 0 running): median wall ms and median CPU ms (user +
 * system of this process, which leaves out the time spent waiting for a core on a shared, loaded VM).
 */
function costAt(obj: Objective, opts: SweepOptions, n: number, repeats = 5): { wallMs: number; cpuMs: number } {
  const rng = mulberry32(42);
  const history: TrialRecord[] = Array.from({ length: n }, (_, i) => {
    const params = sampleRandom(obj.space, rng);
    return { index: i, params, state: 'complete', value: obj.f(params) };
  });
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    suggest({ ...opts, space: obj.space, goal: 'MINIMIZE', seed: r, trialIndex: n, history, maxTrials: 1000 });
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wallMs: round(median(wall), 3), cpuMs: round(median(cpu), 3) };
}

const t0 = performance.now();
console.log(`search bench: ${SEEDS} seeds × ${TRIALS} trials`);
const peers: Record<string, PeerResult | { error: string }> = { debian: runPeer() };
if (OPTUNA5) peers.source = runPeer(OPTUNA5);
for (const [k, p] of Object.entries(peers)) console.log(`optuna peer (${k}): ${'error' in p ? p.error : p.optuna}`);

const functions: Record<string, unknown> = {};
const table: string[][] = [];
for (const obj of OBJECTIVES) {
  const ours: Record<string, { medianRegret: number; regrets: number[]; msPerSuggest: number }> = {};
  for (const [name, opts] of Object.entries(OURS)) {
    const { regrets, msPerSuggest } = regretSet(obj, opts, 1);
    ours[name] = {
      medianRegret: round(median(regrets)),
      regrets: regrets.map((r) => round(r)),
      msPerSuggest: round(msPerSuggest, 3),
    };
  }
  const parallel4: Record<string, { medianRegret: number; regrets: number[] }> = {};
  for (const name of ['random', 'tpe', 'tpeMultivariate', 'tpeSweep', 'gp']) {
    const { regrets } = regretSet(obj, OURS[name]!, 4);
    parallel4[name] = { medianRegret: round(median(regrets)), regrets: regrets.map((r) => round(r)) };
  }
  const optuna: Record<string, { version: string; medianRegret: number; regrets: number[] }> = {};
  for (const [k, p] of Object.entries(peers)) {
    if ('error' in p) continue;
    for (const [variant, byFn] of Object.entries(p.results)) {
      const regrets = byFn[obj.name]!;
      optuna[`${k}:${variant}`] = {
        version: p.optuna,
        medianRegret: round(median(regrets)),
        regrets: regrets.map((r) => round(r)),
      };
    }
  }
  functions[obj.name] = { description: obj.description, optimum: obj.optimum, sequential: ours, parallel4, optuna };
  const peerCols = Object.entries(optuna).map(([k, v]) => `${k}(${v.version})=${v.medianRegret}`);
  table.push([
    obj.name,
    ...Object.entries(ours).map(([k, v]) => `${k}=${v.medianRegret}`),
    ...Object.entries(parallel4).map(([k, v]) => `${k}@4=${v.medianRegret}`),
    ...peerCols,
  ]);
  console.log(table[table.length - 1]!.join('  '));
}

const cost: Record<string, { wallMs: number; cpuMs: number }> = {};
const loadBefore = loadavg()[0]!;
for (const obj of OBJECTIVES.filter((o) => o.name !== 'branin')) {
  const costed = { gp: OURS.gp!, tpe: OURS.tpe!, tpeMultivariate: OURS.tpeMultivariate!, tpeSweep: OURS.tpeSweep! };
  for (const [name, opts] of Object.entries(costed)) {
    cost[`${name}:${obj.name}:500`] = costAt(obj, opts, 500);
  }
}
const costLoadAverage = { before: round(loadBefore, 3), after: round(loadavg()[0]!, 3), cpus: cpus().length };
console.log('per suggestion at 500 finished trials:', cost, 'load average (1 min):', costLoadAverage);

// PED-ANOVA against Optuna's evaluator
const impTrials: TrialRecord[] = (() => {
  const rng = mulberry32(7);
  return Array.from({ length: 200 }, (_, i) => {
    const params = sampleRandom(mixed.space, rng);
    return { index: i, params, state: 'complete' as const, value: mixed.f(params) };
  });
})();
const oursImportance = pedAnovaImportance(mixed.space, impTrials, 'MINIMIZE');
const importance: Record<string, unknown> = { ours: oursImportance };
for (const [k, path] of Object.entries({ debian: undefined, source: OPTUNA5 })) {
  if (k === 'source' && !path) continue;
  try {
    const out = execFileSync(PYTHON, ['bench/optuna_importance_peer.py'], {
      input: JSON.stringify({
        space: mixed.space,
        goal: 'MINIMIZE',
        trials: impTrials.map((t) => ({ params: t.params, value: t.value })),
      }),
      env: { ...process.env, ...(path ? { PYTHONPATH: path } : {}) },
    });
    const peer = JSON.parse(out.toString()) as { optuna: string; importance: Record<string, number> | null };
    const maxAbsDiff =
      peer.importance && oursImportance
        ? Math.max(...Object.keys(oursImportance).map((n) => Math.abs(oursImportance[n]! - peer.importance![n]!)))
        : null;
    importance[k] = { ...peer, maxAbsDiff };
  } catch (error) {
    importance[k] = { error: String((error as Error).message).split('\n')[0] };
  }
}
console.log('PED-ANOVA:', JSON.stringify(importance));

const out = {
  benchmark: 'search',
  date: new Date().toISOString(),
  node: process.version,
  seeds: SEEDS,
  firstSeed: FIRST_SEED,
  trialsPerSweep: TRIALS,
  metric: 'median over seeds of regret = best value found − known optimum; goal MINIMIZE',
  modes: 'sequential = parallelism 1; parallel4 = 4 trials in flight, the oldest completes before each new suggestion',
  strategies: {
    random: 'RANDOM',
    tpe:
      'TPE, library defaults (Optuna 3 independent TPE: 24 candidates, gamma min(ceil(0.1n),25), prior weight 1, ' +
      'magic clip)',
    tpeMultivariate: "TPE {multivariate: true} with Optuna's estimator — what createSweep stored before the tuned one",
    tpeSweep: `TPE as createSweep stores it without options: ${JSON.stringify(SWEEP_TPE_OPTIONS)}`,
    gp: 'GP (Matérn 5/2 ARD, log EI, kriging believer for running trials)',
  },
  optunaPeers: Object.fromEntries(Object.entries(peers).map(([k, p]) => [k, 'error' in p ? p : { optuna: p.optuna }])),
  totalSeconds: round((performance.now() - t0) / 1000),
  functions,
  perSuggestionAt500: cost,
  costLoadAverage,
  pedAnova: importance,
};
const path = resolve(process.cwd(), 'bench/results/search.json');
mkdirSync(dirname(path), { recursive: true });
writeFileSync(path, JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${path} in ${out.totalSeconds}s`);
