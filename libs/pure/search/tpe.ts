/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), following Optuna's TPESampler with
 * its default settings (independent/univariate mode):
 *
 * - `nStartupTrials` random trials first (counted over complete + pruned trials);
 * - observed trials are split into "below" (good) / "above" (bad) with
 *   gamma(n) = min(ceil(0.1·n), 25) good ones; complete trials rank by value, pruned trials
 *   rank after all complete ones (later-pruned first, then by their last intermediate value);
 *   failed trials are ignored;
 * - constant liar: pending (queued/running) trials join the "above" group, i.e. they count as
 *   the worst results so far, so parallel suggestions spread out;
 * - per parameter a univariate Parzen estimator l(x) (below) and g(x) (above): a mixture of
 *   truncated normals in the (log-)transformed domain with one kernel per observation plus a
 *   prior kernel (mu = middle of the range, sigma = range, weight `priorWeight`), bandwidths
 *   from the distances to the neighbours (consider_endpoints = false), clipped to
 *   [range / min(100, 1 + kernels), range] ("magic clip"), mixture weights from
 *   `defaultWeights` (flat for the 25 newest trials, a linear ramp for older ones);
 *   int parameters use discretised kernels (mass of the step-wide bin); log-scaled ints put the
 *   kernels in log space over [min − step/2, max + step/2] (min/2 as the lower edge when
 *   min − step/2 ≤ 0), sample there, round to the step grid, and score a value by the kernel
 *   mass of its bin [log(v − step/2), log(v + step/2)];
 *   categoricals use the smoothed categorical estimator (each kernel puts 1 + prior/k mass on
 *   its observed category and prior/k on every category);
 * - `nEiCandidates` = 24 draws from l(x), pick the one maximising log l(x) − log g(x).
 *
 * The library defaults above are Optuna's. New multivariate sweeps store a tuned joint estimator instead
 * (options.ts, TUNED_JOINT_ESTIMATOR), built from the components Watanabe (2023, "Tree-structured Parzen
 * estimator: understanding its algorithm components and their roles for better empirical performance") ablates:
 * - `bandwidth: 'scott'`: one bandwidth per parameter and group, Scott's rule over the kernel centres, instead of
 *   each kernel's neighbour distance;
 * - `magicClipExponent` α and `minBandwidthFactor` Δ: the magic clip becomes
 *   range · max(Δ, min(100, 1 + kernels)^−α),
 *   so kernels can narrow as the good group's spread shrinks (Optuna's α = 1 keeps them ≥ range/7 at 5 good trials);
 * - `improvementWeights`: good trials weighted by how much they beat the best bad one ("EI" weighting);
 * - `sharpLiar` (ours): a running trial's kernel in g(x) is no wider than the good group's, so that the constant
 *   liar still repels candidates drawn from a narrow l(x).
 *
 * `aboveKernels` (ours, stored with new sweeps) bounds the cost of a suggestion in long sweeps: g(x) keeps only the
 * newest `aboveKernels` trials of the "above" group, so fitting and scoring stop growing with the sweep, as
 * everything else a suggestion needs does (the good group is at most 25 trials). Optuna keeps them all but weighs
 * the older ones down (defaultWeights); dropping them changes nothing in sweeps shorter than the cap, and
 * bench/README.md shows what it does to regret at 1,500 trials. With the cap a suggestion depends on a bounded
 * window of the history ({@link tpeWindow}), which is all the scheduler reads of a long sweep.
 */
import { type Rng, rngFor } from '#libs/pure/random';

import { LOG_SQRT_2PI, logGaussMass, logSumExp, sampleStdTruncNorm } from './numerics.js';
import { intLogEdges, sampleRandom, snapInt } from './random.js';
import {
  gridSize,
  intHigh,
  intStep,
  isValidValue,
  type Params,
  type ParamSpec,
  type ParamValue,
  type SearchSpace,
} from './space.js';
import { type Goal, intermediateEntries, type StrategyInput, type TrialRecord } from './trials.js';

export interface TpeOptions {
  /** Random trials before TPE takes over. Default: {@link defaultStartupTrials}(maxTrials). */
  nStartupTrials: number;
  /** Candidates drawn from l(x) per parameter. Default 24. */
  nEiCandidates: number;
  /** Number of "good" trials out of n observed. Default {@link defaultGamma}. */
  gamma: (n: number) => number;
  /** Kernel weights for n observations ordered oldest first. Default {@link defaultWeights}. */
  weights: (n: number) => number[];
  /** Weight of the prior kernel. Default 1. */
  priorWeight: number;
  /** Add the prior kernel. Default true. */
  considerPrior: boolean;
  /** Clip bandwidths from below by range / min(100, 1 + kernels)^magicClipExponent. Default true. */
  considerMagicClip: boolean;
  /** Exponent α of the magic clip (Watanabe 2023): larger lets kernels narrow faster as trials accrue. Default 1. */
  magicClipExponent: number;
  /** Let the outermost kernels use the distance to the range ends. Default false. */
  considerEndpoints: boolean;
  /** Pending trials join the "above" group. Default true. */
  constantLiar: boolean;
  /** Optuna 3's bandwidths: the prior's mu counts as a neighbour. Default true (false = Optuna ≥ 4). */
  priorAmongNeighbours: boolean;
  /**
   * Joint Parzen estimators over all parameters (Optuna's multivariate=True): one product kernel per
   * observation, candidates drawn jointly and scored by the joint log l(x) − log g(x). Default false.
   */
  multivariate: boolean;
  /**
   * How a numerical kernel's bandwidth is chosen. 'neighbours' (Optuna, hyperopt): the distance to the farther of
   * its two neighbours among the observations. 'scott': one bandwidth per parameter and group from Scott's rule,
   * 1.059 · min(std, IQR / 1.34) · m^(−1/(d+4)) over the m kernel centres (observations and the prior's mu), d = 1
   * univariate, the number of parameters when multivariate. Default 'neighbours'.
   */
  bandwidth: 'neighbours' | 'scott';
  /** Smallest numerical bandwidth as a fraction of the range (Watanabe 2023's minimum bandwidth factor). Default 0. */
  minBandwidthFactor: number;
  /**
   * Weight each good observation by its improvement over the split (the best value of the bad group minus its
   * value, Watanabe 2023's "EI" weighting) instead of `weights`; the prior gets the mean of those weights times
   * `priorWeight`. Used only when every good trial is complete and the bad group has a complete trial. Default false.
   */
  improvementWeights: boolean;
  /** Kernels of running trials in g(x) no wider than the good group's (joint estimator only). Default false. */
  sharpLiar: boolean;
  /** g(x) from at most this many of the "above" trials, the newest. Default Infinity (all of them, as Optuna). */
  aboveKernels: number;
}

/** Optuna's default_gamma: min(ceil(0.1·n), 25). */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's default_weights: ones for n < 25, else a ramp 1/n..1 over the n−25 oldest then 25 ones. */
export function defaultWeights(n: number): number[] {
  if (n <= 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const m = n - 25;
  const ramp: number[] = [];
  for (let i = 0; i < m; i++) ramp.push(m === 1 ? 1 / n : 1 / n + (i * (1 - 1 / n)) / (m - 1));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

/**
 * Startup (random) trials: Optuna's 10, scaled down for small sweeps so that TPE still gets
 * most of the budget: min(10, max(2, floor(maxTrials / 5))); 10 when maxTrials is not a
 * positive finite number. (maxTrials 50+ → 10, 20 → 4, ≤ 14 → 2.)
 */
export function defaultStartupTrials(maxTrials: number): number {
  if (!Number.isFinite(maxTrials) || maxTrials <= 0) return 10;
  return Math.min(10, Math.max(2, Math.floor(maxTrials / 5)));
}

export function resolveTpeOptions(partial: Partial<TpeOptions> | undefined, maxTrials: number): TpeOptions {
  return {
    nStartupTrials: partial?.nStartupTrials ?? defaultStartupTrials(maxTrials),
    nEiCandidates: partial?.nEiCandidates ?? 24,
    gamma: partial?.gamma ?? defaultGamma,
    weights: partial?.weights ?? defaultWeights,
    priorWeight: partial?.priorWeight ?? 1,
    considerPrior: partial?.considerPrior ?? true,
    considerMagicClip: partial?.considerMagicClip ?? true,
    magicClipExponent: partial?.magicClipExponent ?? 1,
    considerEndpoints: partial?.considerEndpoints ?? false,
    constantLiar: partial?.constantLiar ?? true,
    priorAmongNeighbours: partial?.priorAmongNeighbours ?? true,
    multivariate: partial?.multivariate ?? false,
    bandwidth: partial?.bandwidth ?? 'neighbours',
    minBandwidthFactor: partial?.minBandwidthFactor ?? 0,
    improvementWeights: partial?.improvementWeights ?? false,
    sharpLiar: partial?.sharpLiar ?? false,
    aboveKernels: partial?.aboveKernels ?? Infinity,
  };
}

// ---------------------------------------------------------------------------------------------
// Splitting history into below / above

function isObserved(t: TrialRecord): boolean {
  if (t.state === 'complete') return typeof t.value === 'number' && Number.isFinite(t.value);
  return t.state === 'pruned';
}

/** Sort key for pruned trials (Optuna's _get_pruned_trial_score): later step first, then value. */
function prunedScore(t: TrialRecord, goal: Goal): [number, number] {
  const entries = intermediateEntries(t);
  let step: number;
  let v: number;
  if (entries.length > 0) {
    [step, v] = entries[entries.length - 1]!;
  } else if (typeof t.value === 'number') {
    step = 0;
    v = t.value;
  } else {
    return [1, 0];
  }
  if (Number.isNaN(v)) return [-step, Infinity];
  return [-step, goal === 'MINIMIZE' ? v : -v];
}

export interface TpeSplit {
  below: TrialRecord[];
  above: TrialRecord[];
}

/**
 * Splits the trials into good ("below") and bad ("above") ones, each sorted by index.
 * `trials` must already exclude the trial being suggested.
 */
export function splitTrials(
  trials: readonly TrialRecord[],
  goal: Goal,
  nBelow: number,
  constantLiar: boolean,
): TpeSplit {
  const sign = goal === 'MINIMIZE' ? 1 : -1;
  const complete = trials
    .filter((t) => t.state === 'complete' && isObserved(t))
    .sort((a, b) => sign * (a.value! - b.value!) || a.index - b.index);
  const pruned = trials
    .filter((t) => t.state === 'pruned')
    .map((t) => ({ t, s: prunedScore(t, goal) }))
    .sort((a, b) => a.s[0] - b.s[0] || (a.s[1] === b.s[1] ? 0 : a.s[1] < b.s[1] ? -1 : 1) || a.t.index - b.t.index)
    .map((x) => x.t);
  const pending = constantLiar ? trials.filter((t) => t.state === 'pending') : [];
  let n = Math.max(0, nBelow);
  const belowComplete = complete.slice(0, n);
  n = Math.max(0, n - belowComplete.length);
  const belowPruned = pruned.slice(0, n);
  const below = [...belowComplete, ...belowPruned];
  const above = [...complete.slice(belowComplete.length), ...pruned.slice(belowPruned.length), ...pending];
  below.sort((a, b) => a.index - b.index);
  above.sort((a, b) => a.index - b.index);
  return { below, above };
}

// ---------------------------------------------------------------------------------------------
// Parzen estimators

interface NumericalEstimator {
  kind: 'numerical';
  logWeights: number[];
  mus: number[];
  sigmas: number[];
  low: number;
  high: number;
  /** null = continuous; else kernels are discretised to bins of this width. */
  step: number | null;
  /**
   * Log-scaled int: kernels live in log space over [log loEdge, log(maxGrid + step/2)] and the
   * density of a grid value v is the kernel mass of its bin [log(v − step/2), log(v + step/2)]
   * (Optuna's discrete truncated log-normal).
   */
  logBins?: { min: number; step: number; loEdge: number };
  /** log-mass of each kernel over the support (normaliser). */
  logNorm: number[];
  weights: number[];
}

interface CategoricalEstimator {
  kind: 'categorical';
  /** Mixture probability of each category. */
  probs: number[];
  /** Mixture weights of the kernels (observations oldest first, then the prior). */
  weights: number[];
  /** Per kernel, the probability of each category. */
  kernelProbs: number[][];
}

type Estimator = NumericalEstimator | CategoricalEstimator;

/** What an estimator needs beyond the observations of its own parameter. */
export interface EstimatorContext {
  /** Parameters estimated jointly (the exponent of Scott's rule): 1 when univariate. */
  dims: number;
  /** Weights of the observations (oldest first) in place of `opts.weights`; the prior gets mean × priorWeight. */
  obsWeights?: number[];
  /** Bandwidth cap for the marked observations (running trials under `sharpLiar`). */
  cap?: { sigma: number; marked: boolean[] };
}

const UNIVARIATE: EstimatorContext = { dims: 1 };

function mixtureWeights(nObs: number, opts: TpeOptions, obsWeights?: number[]): number[] {
  if (nObs === 0) return [1];
  let prior = opts.priorWeight;
  let w: number[];
  if (obsWeights) {
    if (obsWeights.length !== nObs) throw new Error(`${obsWeights.length} weights for ${nObs} observations`);
    w = [...obsWeights];
    prior *= w.reduce((a, b) => a + b, 0) / nObs;
  } else {
    w = opts.weights(nObs).slice(0, nObs);
  }
  if (w.length !== nObs || w.some((x) => !(x >= 0) || !Number.isFinite(x))) {
    throw new Error(`tpe.weights(${nObs}) must return ${nObs} finite non-negative numbers`);
  }
  if (opts.considerPrior) w.push(prior);
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

/** numpy.percentile's default (linear interpolation between order statistics) of sorted values, q in [0, 1]. */
export function percentileSorted(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const j = Math.min(sorted.length - 1, i + 1);
  return sorted[i]! + (pos - i) * (sorted[j]! - sorted[i]!);
}

/**
 * Scott's rule for kernel centres: 1.059 · min(std, IQR / 1.34) · m^(−1/(dims+4)), std the sample std (ddof 1;
 * 0 for a single centre), IQR as numpy's percentiles. The IQR term only counts when positive: repeated values of
 * an int or a snapped parameter would otherwise give a zero bandwidth while the std is not. Zero when all coincide.
 */
export function scottBandwidth(centres: readonly number[], dims: number): number {
  const m = centres.length;
  if (m === 0) return 0;
  const mean = centres.reduce((a, b) => a + b, 0) / m;
  const ss = centres.reduce((a, x) => a + (x - mean) ** 2, 0);
  const std = Math.sqrt(ss / Math.max(1, m - 1));
  const sorted = [...centres].sort((a, b) => a - b);
  const iqr = percentileSorted(sorted, 0.75) - percentileSorted(sorted, 0.25);
  const spread = iqr > 0 ? Math.min(std, iqr / 1.34) : std;
  return 1.059 * spread * m ** (-1 / (dims + 4));
}

/** Bandwidths of the observations' kernels by the distance to the farther neighbour (Optuna, hyperopt). */
function neighbourBandwidths(
  obs: number[],
  low: number,
  high: number,
  stepOr0: number,
  priorMu: number | null,
  opts: TpeOptions,
): number[] {
  const musForSigma = priorMu === null ? [...obs] : [...obs, priorMu];
  const order = musForSigma.map((_, i) => i).sort((a, b) => musForSigma[a]! - musForSigma[b]! || a - b);
  const sorted = order.map((i) => musForSigma[i]!);
  const withEnds = [low - stepOr0 / 2, ...sorted, high + stepOr0 / 2];
  const sortedSigmas = sorted.map((_, j) =>
    Math.max(withEnds[j + 1]! - withEnds[j]!, withEnds[j + 2]! - withEnds[j + 1]!),
  );
  if (!opts.considerEndpoints && withEnds.length >= 4) {
    sortedSigmas[0] = withEnds[2]! - withEnds[1]!;
    sortedSigmas[sortedSigmas.length - 1] = withEnds[withEnds.length - 2]! - withEnds[withEnds.length - 3]!;
  }
  const sigmasAll = new Array<number>(musForSigma.length);
  order.forEach((origIdx, j) => (sigmasAll[origIdx] = sortedSigmas[j]!));
  return sigmasAll.slice(0, obs.length);
}

export function buildNumericalEstimator(
  obs: number[],
  low: number,
  high: number,
  step: number | null,
  opts: TpeOptions,
  logBins?: NumericalEstimator['logBins'],
  ctx: EstimatorContext = UNIVARIATE,
): NumericalEstimator {
  const stepOr0 = step ?? 0;
  const considerPrior = opts.considerPrior || obs.length === 0;
  const priorMu = 0.5 * (low + high);
  const range = high - low + stepOr0;
  let sigmas: number[];
  if (opts.bandwidth === 'scott') {
    const h = scottBandwidth(considerPrior ? [...obs, priorMu] : obs, ctx.dims);
    sigmas = obs.map(() => h);
  } else {
    // Optuna ≥ 4 takes the neighbour distances among the observations only; Optuna 3 put the prior's mu
    // among them (priorAmongNeighbours), which narrows the kernels next to the centre of the range.
    const priorAmong = considerPrior && opts.priorAmongNeighbours;
    sigmas = neighbourBandwidths(obs, low, high, stepOr0, priorAmong ? priorMu : null, opts);
  }
  const kernels = obs.length + (considerPrior ? 1 : 0);
  const magicMin = opts.considerMagicClip ? range / Math.min(100, 1 + kernels) ** opts.magicClipExponent : 1e-12;
  const minSigma = Math.max(magicMin, opts.minBandwidthFactor * range);
  sigmas = sigmas.map((s) => Math.min(range, Math.max(minSigma, s)));
  const cap = ctx.cap;
  if (cap) sigmas = sigmas.map((s, i) => (cap.marked[i] ? Math.min(s, cap.sigma) : s));
  const mus = [...obs];
  if (considerPrior) {
    mus.push(priorMu);
    sigmas.push(range);
  }
  const weights = mixtureWeights(obs.length, opts, ctx.obsWeights);
  const lo = low - stepOr0 / 2;
  const hi = high + stepOr0 / 2;
  return {
    kind: 'numerical',
    weights,
    logWeights: weights.map((w) => Math.log(w)),
    mus,
    sigmas,
    low,
    high,
    step,
    ...(logBins ? { logBins } : {}),
    logNorm: mus.map((m, k) => logGaussMass((lo - m) / sigmas[k]!, (hi - m) / sigmas[k]!)),
  };
}

export function buildCategoricalEstimator(
  obs: number[],
  nChoices: number,
  opts: TpeOptions,
  ctx: EstimatorContext = UNIVARIATE,
): CategoricalEstimator {
  if (obs.length === 0) {
    const uniform = new Array<number>(nChoices).fill(1 / nChoices);
    return { kind: 'categorical', probs: uniform, weights: [1], kernelProbs: [uniform] };
  }
  const nKernels = obs.length + (opts.considerPrior ? 1 : 0);
  const w = mixtureWeights(obs.length, opts, ctx.obsWeights);
  const probs = new Array<number>(nChoices).fill(0);
  const kernelProbs: number[][] = [];
  for (let k = 0; k < nKernels; k++) {
    const row = new Array<number>(nChoices).fill(opts.priorWeight / nKernels);
    if (k < obs.length) row[obs[k]!]! += 1;
    const s = row.reduce((a, b) => a + b, 0);
    const normed = row.map((x) => x / s);
    kernelProbs.push(normed);
    for (let c = 0; c < nChoices; c++) probs[c]! += w[k]! * normed[c]!;
  }
  return { kind: 'categorical', probs, weights: w, kernelProbs };
}

function pickIndex(weights: number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

/** Draws one value of kernel k (in the transformed domain; a category index for categoricals). */
export function sampleComponent(est: Estimator, k: number, rng: Rng): number {
  if (est.kind === 'categorical') return pickIndex(est.kernelProbs[k]!, rng());
  const mu = est.mus[k]!;
  const sigma = est.sigmas[k]!;
  const half = (est.step ?? 0) / 2;
  const lo = est.low - half;
  const hi = est.high + half;
  const x = mu + sigma * sampleStdTruncNorm((lo - mu) / sigma, (hi - mu) / sigma, rng());
  const clipped = Math.min(hi, Math.max(lo, x));
  if (est.step === null) return Math.min(est.high, Math.max(est.low, clipped));
  const snapped = est.low + Math.round((clipped - est.low) / est.step) * est.step;
  return Math.min(est.high, Math.max(est.low, snapped));
}

/** Draws one value (in the transformed domain; a category index for categoricals). */
export function sampleEstimator(est: Estimator, rng: Rng): number {
  if (est.kind === 'categorical') return pickIndex(est.probs, rng());
  return sampleComponent(est, pickIndex(est.weights, rng()), rng);
}

/** log density (log mass when discrete) of kernel k at a transformed value, without the mixture weight. */
export function componentLogPdf(est: Estimator, k: number, x: number): number {
  if (est.kind === 'categorical') return Math.log(est.kernelProbs[k]![x]!);
  const mu = est.mus[k]!;
  const s = est.sigmas[k]!;
  let lp: number;
  if (est.logBins) {
    const { min, step, loEdge } = est.logBins;
    const v = Math.round(Math.exp(x));
    const lower = Math.log(v <= min ? loEdge : v - step / 2);
    const upper = Math.log(v + step / 2);
    lp = logGaussMass((lower - mu) / s, (upper - mu) / s);
  } else if (est.step === null) {
    const z = (x - mu) / s;
    lp = -0.5 * z * z - Math.log(s) - LOG_SQRT_2PI;
  } else {
    lp = logGaussMass((x - est.step / 2 - mu) / s, (x + est.step / 2 - mu) / s);
  }
  return lp - est.logNorm[k]!;
}

/** log density (log mass for discrete/categorical) of the mixture at a transformed value. */
export function estimatorLogPdf(est: Estimator, x: number): number {
  if (est.kind === 'categorical') return Math.log(est.probs[x]!);
  const terms: number[] = [];
  for (let k = 0; k < est.mus.length; k++) terms.push(est.logWeights[k]! + componentLogPdf(est, k, x));
  return logSumExp(terms);
}

/** log density of the joint (product-kernel) mixture at a point, one transformed value per estimator. */
export function jointLogPdf(ests: readonly Estimator[], logWeights: readonly number[], xs: readonly number[]): number {
  const terms = logWeights.map((lw, k) => {
    let s = lw;
    for (let d = 0; d < ests.length; d++) s += componentLogPdf(ests[d]!, k, xs[d]!);
    return s;
  });
  return logSumExp(terms);
}

// ---------------------------------------------------------------------------------------------
// Per-parameter domains

interface Domain {
  /** value → transformed number, or undefined when the value is not legal for the spec. */
  toInternal(v: unknown): number | undefined;
  fromInternal(x: number): ParamValue;
  build(obs: number[], opts: TpeOptions, ctx?: EstimatorContext): Estimator;
}

function domainOf(spec: ParamSpec): Domain {
  switch (spec.type) {
    case 'choice':
      return {
        toInternal: (v) => {
          const i = spec.values.indexOf(v as ParamValue);
          return i < 0 ? undefined : i;
        },
        fromInternal: (x) => spec.values[x]!,
        build: (obs, opts, ctx) => buildCategoricalEstimator(obs, spec.values.length, opts, ctx),
      };
    case 'uniform':
      return {
        toInternal: (v) => (isValidValue(spec, v) ? (v as number) : undefined),
        fromInternal: (x) => Math.min(spec.max, Math.max(spec.min, x)),
        build: (obs, opts, ctx) => buildNumericalEstimator(obs, spec.min, spec.max, null, opts, undefined, ctx),
      };
    case 'loguniform':
      return {
        toInternal: (v) => (isValidValue(spec, v) ? Math.log(v as number) : undefined),
        fromInternal: (x) => Math.min(spec.max, Math.max(spec.min, Math.exp(x))),
        build: (obs, opts, ctx) =>
          buildNumericalEstimator(obs, Math.log(spec.min), Math.log(spec.max), null, opts, undefined, ctx),
      };
    case 'int':
      if (spec.log) {
        const [lo, hi] = intLogEdges(spec);
        const logBins = { min: spec.min, step: intStep(spec), loEdge: lo };
        return {
          toInternal: (v) => (isValidValue(spec, v) ? Math.log(v as number) : undefined),
          fromInternal: (x) => snapInt(spec, Math.exp(x)),
          build: (obs, opts, ctx) => buildNumericalEstimator(obs, Math.log(lo), Math.log(hi), null, opts, logBins, ctx),
        };
      }
      return {
        toInternal: (v) => (isValidValue(spec, v) ? (v as number) : undefined),
        fromInternal: (x) => snapInt(spec, x),
        build: (obs, opts, ctx) =>
          buildNumericalEstimator(obs, spec.min, intHigh(spec), intStep(spec), opts, undefined, ctx),
      };
  }
}

/** A group's values of one parameter (trials lacking a legal value left out) and, if weighted, their weights. */
function observations(group: Group, name: string, dom: Domain): { obs: number[]; ctx: EstimatorContext } {
  const obs: number[] = [];
  const w: number[] = [];
  group.trials.forEach((t, i) => {
    const x = dom.toInternal(t.params?.[name]);
    if (x === undefined) return;
    obs.push(x);
    if (group.weights) w.push(group.weights[i]!);
  });
  return { obs, ctx: group.weights ? { dims: 1, obsWeights: w } : UNIVARIATE };
}

/** Trials of one side of the split, oldest first, with their kernel weights when not from `opts.weights`. */
interface Group {
  trials: TrialRecord[];
  weights?: number[];
}

/**
 * Watanabe 2023's "EI" weights of the good trials: how much each improves on the best bad value (at least 1e-12).
 * Undefined (fall back to `opts.weights`) when a good trial has no final value or no bad trial has one.
 */
export function improvementWeights(
  below: readonly TrialRecord[],
  above: readonly TrialRecord[],
  goal: Goal,
): number[] | undefined {
  const sign = goal === 'MINIMIZE' ? 1 : -1;
  const finite = (t: TrialRecord) => t.state === 'complete' && typeof t.value === 'number' && Number.isFinite(t.value);
  if (below.length === 0 || !below.every(finite)) return undefined;
  const bad = above.filter(finite).map((t) => sign * t.value!);
  if (bad.length === 0) return undefined;
  const threshold = Math.min(...bad);
  return below.map((t) => Math.max(1e-12, threshold - sign * t.value!));
}

export interface TpeInput extends StrategyInput {
  tpe?: Partial<TpeOptions>;
  /**
   * When `history` is only the window {@link tpeWindow} describes: the number of observed (complete or pruned)
   * trials in the whole history, or at least `observedCap` of them. Absent: `history` is the whole history.
   */
  observed?: number;
}

/**
 * The part of a long history a suggestion depends on when `aboveKernels` is finite, for a caller that keeps the
 * history elsewhere (the scheduler's trial store) and reads only that: the `bestComplete` best complete trials, the
 * `bestPruned` best pruned ones (complete and pruned ranked as {@link splitTrials} ranks them), the `newest` newest
 * trials that are not failed, and the number of observed trials counted up to `observedCap` (past it, neither the
 * startup phase nor the split changes). Given those as `history` and the count as `observed`, {@link tpeDraws} draws
 * what it draws on the whole history. Null when every trial matters (no cap, or a custom `gamma`).
 */
export function tpeWindow(
  partial: Partial<TpeOptions> | undefined,
  maxTrials: number,
): { bestComplete: number; bestPruned: number; newest: number; observedCap: number } | null {
  const opts = resolveTpeOptions(partial, maxTrials);
  if (!Number.isFinite(opts.aboveKernels) || opts.gamma !== defaultGamma) return null;
  return {
    // one more than the good group: the best "above" value sets the improvement weights
    bestComplete: GAMMA_MAX + 1,
    bestPruned: GAMMA_MAX,
    newest: opts.aboveKernels + GAMMA_MAX,
    observedCap: Math.max(opts.nStartupTrials, GAMMA_SATURATES_AT),
  };
}

/**
 * The window {@link tpeWindow} describes, taken from a whole history: what the scheduler's trial store reads with
 * its index ranges (ranked as {@link splitTrials} ranks trials; the trial being suggested and failed trials left
 * out), in trial order, with the observed count as {@link TpeInput.observed} takes it.
 */
export function tpeWindowOf(
  history: readonly TrialRecord[],
  trialIndex: number,
  goal: Goal,
  window: NonNullable<ReturnType<typeof tpeWindow>>,
): { history: TrialRecord[]; observed: number } {
  const relevant = history.filter((t) => t.index !== trialIndex && (isObserved(t) || t.state === 'pending'));
  const { below: bestComplete } = splitTrials(
    relevant.filter((t) => t.state === 'complete'),
    goal,
    window.bestComplete,
    false,
  );
  const { below: bestPruned } = splitTrials(
    relevant.filter((t) => t.state === 'pruned'),
    goal,
    window.bestPruned,
    false,
  );
  const newest = relevant
    .slice()
    .sort((a, b) => a.index - b.index)
    .slice(-window.newest);
  const byIndex = new Map<number, TrialRecord>();
  for (const t of [...bestComplete, ...bestPruned, ...newest]) byIndex.set(t.index, t);
  return {
    history: [...byIndex.values()].sort((a, b) => a.index - b.index),
    observed: Math.min(relevant.filter(isObserved).length, window.observedCap),
  };
}

/** defaultGamma's largest value, and the number of observed trials from which it stays there. */
const GAMMA_MAX = 25;
const GAMMA_SATURATES_AT = 241;

/**
 * The candidates of a TPE suggestion in the order they are tried: the draw of the trial's own stream, then
 * streams 1..8 of the same model, then random points from streams 9..72. The suggestion is the first of them that
 * no other trial (failed ones aside) has; the first one when every point of a finite space is taken; else the last
 * one. {@link suggestTpe} picks it with the history at hand; the scheduler asks its trial store instead.
 */
export function* tpeDraws(input: TpeInput): Generator<Params, void, undefined> {
  const opts = resolveTpeOptions(input.tpe, input.maxTrials);
  const others = input.history.filter((t) => t.index !== input.trialIndex && t.state !== 'failed');
  const nObserved = input.observed ?? others.filter(isObserved).length;
  let draw: (r: Rng) => Params;
  if (nObserved < opts.nStartupTrials || nObserved === 0) {
    draw = (r) => sampleRandom(input.space, r);
  } else {
    const relevant = others.filter((t) => isObserved(t) || t.state === 'pending');
    const split = splitTrials(relevant, input.goal, opts.gamma(nObserved), opts.constantLiar);
    const weights = opts.improvementWeights ? improvementWeights(split.below, split.above, input.goal) : undefined;
    const below: Group = weights ? { trials: split.below, weights } : { trials: split.below };
    // after the weights: their threshold is the best of the whole "above" group
    const above: Group = { trials: newestOf(split.above, opts.aboveKernels) };
    draw = (r) =>
      opts.multivariate
        ? suggestJoint(input.space, below, above, opts, r)
        : suggestIndependent(input.space, below, above, opts, r);
  }
  yield draw(rngFor(input.seed, input.trialIndex));
  for (let stream = 1; stream <= 8; stream++) yield draw(rngFor(input.seed, input.trialIndex, stream));
  // l(x) may sit entirely on taken points of a small discrete space: then a random free point
  for (let stream = 9; stream <= 72; stream++)
    yield sampleRandom(input.space, rngFor(input.seed, input.trialIndex, stream));
}

/** The last `cap` trials of a list sorted by index (all of them when the cap is not smaller). */
export function newestOf<T>(trials: T[], cap: number): T[] {
  return trials.length > cap ? trials.slice(trials.length - Math.max(0, cap)) : trials;
}

/** One TPE suggestion (random during the startup phase). */
export function suggestTpe(input: TpeInput): Params {
  // Never the same point twice (matters for discrete spaces): a repeat of a finished or running trial is drawn
  // again from the next streams of this trial's generator, still a pure function of the history.
  const others = input.history.filter((t) => t.index !== input.trialIndex && t.state !== 'failed');
  const taken = new Set(others.map((t) => paramsKey(input.space, t.params)));
  let last: Params | undefined;
  for (const params of tpeDraws(input)) {
    if (!taken.has(paramsKey(input.space, params))) return params;
    if (last === undefined && taken.size >= gridSize(input.space)) return params; // repeats are unavoidable
    last = params;
  }
  return last!;
}

function paramsKey(space: SearchSpace, params: Params | undefined): string {
  return JSON.stringify(Object.keys(space).map((n) => params?.[n] ?? null));
}

function suggestIndependent(space: SearchSpace, below: Group, above: Group, opts: TpeOptions, rng: Rng): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(space)) {
    const dom = domainOf(spec);
    const lo = observations(below, name, dom);
    const go = observations(above, name, dom);
    const l = dom.build(lo.obs, opts, lo.ctx);
    const g = dom.build(go.obs, opts, go.ctx);
    let best = NaN;
    let bestScore = -Infinity;
    for (let i = 0; i < Math.max(1, opts.nEiCandidates); i++) {
      const raw = sampleEstimator(l, rng);
      const value = dom.fromInternal(raw);
      const x = dom.toInternal(value) ?? raw;
      const score = estimatorLogPdf(l, x) - estimatorLogPdf(g, x);
      if (Number.isNaN(best) || score > bestScore) {
        best = x;
        bestScore = score;
      }
    }
    out[name] = dom.fromInternal(best);
  }
  return out;
}

/** Trials whose every parameter is a legal value of the space (the joint estimator needs all of them). */
interface Rows {
  rows: number[][];
  weights?: number[];
  pending: boolean[];
}

function completeRows(group: Group, names: string[], doms: Domain[]): Rows {
  const rows: number[][] = [];
  const weights: number[] = [];
  const pending: boolean[] = [];
  group.trials.forEach((t, i) => {
    const row = names.map((n, d) => doms[d]!.toInternal(t.params?.[n]));
    if (!row.every((x) => x !== undefined)) return;
    rows.push(row as number[]);
    pending.push(t.state === 'pending');
    if (group.weights) weights.push(group.weights[i]!);
  });
  return group.weights ? { rows, weights, pending } : { rows, pending };
}

function suggestJoint(space: SearchSpace, below: Group, above: Group, opts: TpeOptions, rng: Rng): Params {
  const names = Object.keys(space);
  const doms = names.map((n) => domainOf(space[n]!));
  const build = ({ rows, weights: obsWeights, pending }: Rows, caps?: (number | undefined)[]) => {
    const ests = doms.map((dom, d) => {
      const ctx: EstimatorContext = obsWeights ? { dims: names.length, obsWeights } : { dims: names.length };
      const cap = caps?.[d];
      if (cap !== undefined && pending.some(Boolean)) ctx.cap = { sigma: cap, marked: pending };
      return dom.build(
        rows.map((r) => r[d]!),
        opts,
        ctx,
      );
    });
    const weights = rows.length === 0 ? [1] : mixtureWeights(rows.length, opts, obsWeights);
    return { ests, weights, logWeights: weights.map((w) => Math.log(w)) };
  };
  const belowRows = completeRows(below, names, doms);
  const l = build(belowRows);
  // sharpLiar: the mean bandwidth of the good kernels per numerical parameter caps the running trials' kernels in g
  const nGood = belowRows.rows.length;
  const meanGoodSigma = (e: Estimator) =>
    e.kind === 'numerical' ? e.sigmas.slice(0, nGood).reduce((a, b) => a + b, 0) / nGood : undefined;
  const caps = opts.sharpLiar && nGood > 0 ? l.ests.map(meanGoodSigma) : undefined;
  const g = build(completeRows(above, names, doms), caps);
  let best: number[] | null = null;
  let bestScore = -Infinity;
  for (let i = 0; i < Math.max(1, opts.nEiCandidates); i++) {
    const k = pickIndex(l.weights, rng());
    const xs = l.ests.map((est, d) => {
      const raw = sampleComponent(est, k, rng);
      return doms[d]!.toInternal(doms[d]!.fromInternal(raw)) ?? raw;
    });
    const score = jointLogPdf(l.ests, l.logWeights, xs) - jointLogPdf(g.ests, g.logWeights, xs);
    if (best === null || score > bestScore) {
      best = xs;
      bestScore = score;
    }
  }
  const out: Params = {};
  names.forEach((n, d) => (out[n] = doms[d]!.fromInternal(best![d]!)));
  return out;
}
