/**
 * PED-ANOVA hyperparameter importance (Watanabe et al., IJCAI 2023), as Optuna's
 * PedAnovaImportanceEvaluator computes it with its defaults (target_quantile 0.1, region_quantile 1,
 * evaluate_on_local true) followed by get_param_importances' normalisation to sum 1:
 *
 * - trials: complete ones with a finite value; "top" = those whose value is no worse than the
 *   ceil(0.1·n)-th best (ties kept), "region" = all of them;
 * - per parameter, both sets are counted on a grid: numerical parameters on ≤ 50 evenly spaced points over
 *   [min, max] (in log space for log parameters; an int grid keeps its own points when fewer; a log int uses
 *   ceil(log2(max − min + 1)) + 1 points), a value going to the nearest point (midpoint ties go down);
 *   categoricals by category;
 * - on that grid a Parzen estimator per set: numerical = discrete truncated normals on 0..G−1, one per
 *   occupied grid point weighted by its count, bandwidth by Scott's rule
 *   1.059·min(IQR/1.34, σ)·W^(−1/5) (at least 0.5/1.64), plus a prior kernel (mu = centre, sigma = G,
 *   weight 1); categorical = each occupied category a kernel with 1 + 1/(k+1) mass on itself and 1/(k+1)
 *   on every category (k = occupied categories), weighted by its count, plus a uniform prior kernel;
 * - importance = Pearson divergence Σ_grid p_region·(p_top / p_region − 1)² (both + 1e-12);
 * - normalised to sum 1 (equal shares when every divergence is 0). Null below `minTrials` (10) trials.
 */
import { logGaussMass } from './numerics.js';
import { intHigh, intStep, type ParamSpec, type SearchSpace } from './space.js';
import type { Goal, TrialRecord } from './trials.js';

export const IMPORTANCE_MIN_TRIALS = 10;
const TARGET_QUANTILE = 0.1;
const N_STEPS = 50;
const PRIOR_WEIGHT = 1;
const EPS = 1e-12;

/** Grid counts of one parameter's values; null when the value cannot be placed (not in the space). */
export function gridCounts(spec: ParamSpec, values: readonly unknown[]): number[] {
  if (spec.type === 'choice') {
    const counts = new Array<number>(spec.values.length).fill(0);
    for (const v of values) {
      const i = spec.values.indexOf(v as never);
      if (i >= 0) counts[i]!++;
    }
    return counts;
  }
  const isLog = spec.type === 'loguniform' || (spec.type === 'int' && spec.log === true);
  const min = spec.min;
  const max = spec.type === 'int' ? intHigh(spec) : spec.max;
  let nSteps = N_STEPS;
  if (spec.type === 'int' && isLog) {
    nSteps = Math.min(Math.ceil(Math.log(max - min + 1) / Math.log(2)) + 1, nSteps);
  } else if (spec.type === 'int') {
    nSteps = Math.min(Math.round((max - min) / intStep(spec)) + 1, nSteps);
  }
  const counts = new Array<number>(Math.max(1, nSteps)).fill(0);
  if (nSteps <= 1) {
    counts[0] = values.filter((v) => typeof v === 'number').length;
    return counts;
  }
  const lo = isLog ? Math.log(min) : min;
  const hi = isLog ? Math.log(max) : max;
  const stepSize = (hi - lo) / (nSteps - 1);
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v) || (isLog && v <= 0)) continue;
    const x = isLog ? Math.log(v) : v;
    const idx = Math.ceil((x - lo) / stepSize - 0.5);
    counts[Math.min(nSteps - 1, Math.max(0, idx))]!++;
  }
  return counts;
}

/** Probability of each grid point under the Scott-bandwidth Parzen estimator of the counts (numerical). */
export function numericalGridPdf(counts: readonly number[]): number[] {
  const g = counts.length;
  const obs: number[] = [];
  const w: number[] = [];
  counts.forEach((c, i) => {
    if (c > 0) {
      obs.push(i);
      w.push(c);
    }
  });
  const mus: number[] = [];
  const sigmas: number[] = [];
  let weights: number[];
  if (obs.length === 0) {
    weights = [1];
  } else {
    const total = w.reduce((a, b) => a + b, 0);
    const mean = obs.reduce((a, o, i) => a + o * w[i]!, 0) / total;
    const sd = Math.sqrt(obs.reduce((a, o, i) => a + (o - mean) ** 2 * w[i]!, 0) / Math.max(1, total - 1));
    const cum: number[] = [];
    w.reduce((a, b) => (cum.push(a + b), a + b), 0);
    // numpy searchsorted: left = first index with cum ≥ v, right = first index with cum > v
    const q1Target = Math.floor(total / 4);
    const q3Target = Math.floor((total * 3) / 4);
    let q1 = cum.findIndex((c) => c >= q1Target);
    if (q1 < 0) q1 = cum.length;
    let q3 = cum.findIndex((c) => c > q3Target);
    if (q3 < 0) q3 = cum.length;
    const iqr = obs[Math.min(obs.length - 1, q3)]! - obs[Math.min(obs.length - 1, q1)]!;
    const scott = 1.059 * Math.min(iqr / 1.34, sd) * total ** -0.2;
    const sigma = Math.max(scott, 0.5 / 1.64);
    for (const o of obs) {
      mus.push(o);
      sigmas.push(sigma);
    }
    weights = [...w, PRIOR_WEIGHT];
  }
  mus.push((g - 1) / 2);
  sigmas.push(g); // high − low + 1 on the 0..G−1 grid
  const wsum = weights.reduce((a, b) => a + b, 0);
  const pdf = new Array<number>(g).fill(0);
  for (let k = 0; k < mus.length; k++) {
    const mu = mus[k]!;
    const s = sigmas[k]!;
    const logNorm = logGaussMass((-0.5 - mu) / s, (g - 0.5 - mu) / s);
    for (let x = 0; x < g; x++) {
      pdf[x]! += (weights[k]! / wsum) * Math.exp(logGaussMass((x - 0.5 - mu) / s, (x + 0.5 - mu) / s) - logNorm);
    }
  }
  return pdf;
}

/** Probability of each category under the smoothed categorical Parzen estimator of the counts. */
export function categoricalGridPdf(counts: readonly number[]): number[] {
  const k = counts.length;
  const observed = counts.map((c, i) => [c, i] as const).filter(([c]) => c > 0);
  if (observed.length === 0) return new Array<number>(k).fill(1 / k);
  const nKernels = observed.length + 1;
  const weights = [...observed.map(([c]) => c), PRIOR_WEIGHT];
  const wsum = weights.reduce((a, b) => a + b, 0);
  const pdf = new Array<number>(k).fill(0);
  for (let j = 0; j < nKernels; j++) {
    const row = new Array<number>(k).fill(PRIOR_WEIGHT / nKernels);
    if (j < observed.length) row[observed[j]![1]]! += 1;
    const rowSum = row.reduce((a, b) => a + b, 0);
    for (let c = 0; c < k; c++) pdf[c]! += ((weights[j]! / wsum) * row[c]!) / rowSum;
  }
  return pdf;
}

/** Pearson divergence Σ p_region·(p_top/p_region − 1)² of the two Parzen estimators on the grid. */
export function pearsonDivergence(
  spec: ParamSpec,
  topValues: readonly unknown[],
  regionValues: readonly unknown[],
): number {
  const pdfOf = spec.type === 'choice' ? categoricalGridPdf : numericalGridPdf;
  const top = pdfOf(gridCounts(spec, topValues));
  const region = pdfOf(gridCounts(spec, regionValues));
  let d = 0;
  for (let i = 0; i < top.length; i++) {
    const p = top[i]! + EPS;
    const q = region[i]! + EPS;
    d += q * (p / q - 1) ** 2;
  }
  return d;
}

function isSingle(spec: ParamSpec): boolean {
  if (spec.type === 'choice') return spec.values.length <= 1;
  return spec.type === 'int' ? intHigh(spec) <= spec.min : spec.max <= spec.min;
}

/**
 * PED-ANOVA importance of each parameter of the space over the sweep's complete trials, normalised to sum 1;
 * null below `minTrials` complete trials with a finite value.
 */
export function pedAnovaImportance(
  space: SearchSpace,
  trials: readonly TrialRecord[],
  goal: Goal,
  minTrials = IMPORTANCE_MIN_TRIALS,
): Record<string, number> | null {
  const finished = trials.filter(
    (t) => t.state === 'complete' && typeof t.value === 'number' && Number.isFinite(t.value),
  );
  if (finished.length < Math.max(2, minTrials)) return null;
  const sign = goal === 'MINIMIZE' ? 1 : -1;
  const losses = finished.map((t) => sign * t.value!);
  const sorted = [...losses].sort((a, b) => a - b);
  const cutoff = sorted[Math.ceil(TARGET_QUANTILE * losses.length) - 1]!;
  const top = finished.filter((_, i) => losses[i]! <= cutoff);
  const raw: Record<string, number> = {};
  for (const [name, spec] of Object.entries(space)) {
    if (isSingle(spec)) {
      raw[name] = 0;
      continue;
    }
    raw[name] = pearsonDivergence(
      spec,
      top.map((t) => t.params?.[name]),
      finished.map((t) => t.params?.[name]),
    );
  }
  const names = Object.keys(raw);
  const total = names.reduce((a, n) => a + raw[n]!, 0);
  const out: Record<string, number> = {};
  const ranked = [...names].sort((a, b) => raw[b]! - raw[a]!);
  for (const n of ranked) out[n] = total > 0 ? raw[n]! / total : 1 / names.length;
  return out;
}
