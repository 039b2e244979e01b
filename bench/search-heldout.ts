/**
 * Choosing TPE settings away from the bench seeds: runs TPE variants on the bench objectives over a held-out
 * seed range (default 2000..2099, never the 1000..1019 of `bench:search`) and prints, per function, the median
 * regret, the mean of log10 regret (less noisy than a median), the seeds won against the first variant and, with
 * --blocks, the median of each block of that many seeds (how much a 20-seed median moves). The estimator of new
 * sweeps was chosen with this; `bench:search` then reports the bench seeds.
 *
 *   npm run build && node dist/bench/search-heldout.js [--first-seed 2000] [--seeds 100] [--trials 50]
 *     [--variants sweep,mv,...] [--parallelism 1] [--blocks 20] [--json out.json] [--peer optuna_peer.json]
 *
 * --peer reads the output of bench/optuna_peer.py run over the same seeds and prints the same figures for it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { parseStrategyOptions, suggestOptions, type TpeOptions } from '#libs/pure/search';

import { median, OBJECTIVES, runSweep } from './search-objectives.js';

const linearGamma = (beta: number) => (n: number) => Math.min(Math.ceil(beta * n), 25);
const sqrtGamma = (beta: number) => (n: number) => Math.min(Math.ceil(beta * Math.sqrt(n)), 25);

/**
 * A variant as '+'-joined tokens: sweep (what createSweep stores for TPE without options), uni | mv
 * (multivariate), scott (Scott's rule), o4 (Optuna ≥ 4 neighbours), ep (consider endpoints), noclip, a<α> (magic
 * clip exponent), d<Δ%> (min bandwidth factor in percent), g<β%> (gamma min(ceil(β·n), 25)), sq<β%> (gamma
 * min(ceil(β·√n), 25)), ei (improvement weights), sharp (sharp liar), pw<w> (prior weight), c<n> (candidates),
 * s<n> (startup trials). Later tokens override earlier ones: e.g. mv+scott+a1.5+d3+ei, sweep+a2.
 */
export function parseVariant(spec: string, trials: number): Partial<TpeOptions> {
  const o: Partial<TpeOptions> = {};
  for (const tok of spec.split('+')) {
    const num = (prefix: string) => Number(tok.slice(prefix.length));
    if (tok === 'sweep') Object.assign(o, suggestOptions('TPE', parseStrategyOptions({}, 'TPE', trials)).tpe);
    else if (tok === 'uni') o.multivariate = false;
    else if (tok === 'mv') o.multivariate = true;
    else if (tok === 'scott') o.bandwidth = 'scott';
    else if (tok === 'o4') o.priorAmongNeighbours = false;
    else if (tok === 'ep') o.considerEndpoints = true;
    else if (tok === 'noclip') o.considerMagicClip = false;
    else if (tok === 'ei') o.improvementWeights = true;
    else if (tok === 'sharp') o.sharpLiar = true;
    else if (tok.startsWith('sq')) o.gamma = sqrtGamma(num('sq') / 100);
    else if (tok.startsWith('a')) o.magicClipExponent = num('a');
    else if (tok.startsWith('d')) o.minBandwidthFactor = num('d') / 100;
    else if (tok.startsWith('g')) o.gamma = linearGamma(num('g') / 100);
    else if (tok.startsWith('pw')) o.priorWeight = num('pw');
    else if (tok.startsWith('c')) o.nEiCandidates = num('c');
    else if (tok.startsWith('s')) o.nStartupTrials = num('s');
    else throw new Error(`unknown variant token ${tok} in ${spec}`);
    if (Object.values(o).some((v) => typeof v === 'number' && !Number.isFinite(v))) {
      throw new Error(`bad number in ${tok}`);
    }
  }
  return o;
}

const { values } = parseArgs({
  options: {
    'first-seed': { type: 'string', default: '2000' },
    seeds: { type: 'string', default: '100' },
    trials: { type: 'string', default: '50' },
    variants: { type: 'string', default: 'uni,mv,sweep' },
    parallelism: { type: 'string', default: '1' },
    blocks: { type: 'string' },
    json: { type: 'string' },
    peer: { type: 'string' },
  },
});
const firstSeed = Number(values['first-seed']);
const seeds = Number(values.seeds);
const trials = Number(values.trials);
const parallelism = Number(values.parallelism);
const block = values.blocks ? Number(values.blocks) : 0;
const names = values.variants!.split(',');
const variants = Object.fromEntries(names.map((n) => [n, parseVariant(n, trials)]));
interface PeerOutput {
  optuna: string;
  results: Record<string, Record<string, number[]>>;
}
const peer = values.peer ? (JSON.parse(readFileSync(values.peer, 'utf8')) as PeerOutput) : null;

const fmt = (x: number) => x.toPrecision(3);
function report(fn: string, name: string, regrets: number[], base: number[]): void {
  const logMean = regrets.reduce((a, r) => a + Math.log10(Math.max(r, 1e-9)), 0) / regrets.length;
  const wins = regrets.filter((r, i) => r < base[i]!).length;
  let line = `${fn.padEnd(10)} ${name.padEnd(28)} median ${fmt(median(regrets))}  mean log10 ${logMean.toFixed(3)}`;
  line += `  wins vs ${names[0]} ${wins}/${regrets.length}`;
  if (block > 0) {
    const meds: string[] = [];
    for (let i = 0; i + block <= regrets.length; i += block) meds.push(fmt(median(regrets.slice(i, i + block))));
    line += `  ${block}-seed medians ${meds.join(' ')}`;
  }
  console.log(line);
}

console.log(`seeds ${firstSeed}..${firstSeed + seeds - 1} × ${trials} trials, parallelism ${parallelism}`);
const out: Record<string, Record<string, number[]>> = {};
for (const obj of OBJECTIVES) {
  let base: number[] | null = null;
  for (const name of names) {
    const regrets = Array.from(
      { length: seeds },
      (_, s) => runSweep(obj, { strategy: 'TPE', tpe: variants[name] }, firstSeed + s, trials, parallelism).regret,
    );
    (out[name] ??= {})[obj.name] = regrets;
    base ??= regrets;
    report(obj.name, name, regrets, base);
  }
  for (const [variant, byFn] of Object.entries(peer?.results ?? {})) {
    const regrets = byFn[obj.name];
    if (regrets?.length === seeds) report(obj.name, `optuna ${peer!.optuna} ${variant}`, regrets, base!);
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify({ firstSeed, seeds, trials, parallelism, regrets: out }));
