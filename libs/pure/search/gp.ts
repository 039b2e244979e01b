/**
 * Gaussian-process Bayesian optimisation, after Optuna's GPSampler:
 *
 * - every parameter maps to one input dimension: numerical ones to [0, 1] (in log space for log
 *   parameters; ints on their grid), categoricals to their index, compared by Hamming distance;
 * - objective values standardised (so the goal is always "lower is better");
 * - kernel s·Matérn-5/2(r) with r² = Σ_d λ_d·Δ_d² (Δ = difference of numerical dims, [a ≠ b] for
 *   categoricals), ARD inverse squared length scales λ_d, plus noise σ² on the diagonal;
 * - (λ, s, σ²) fitted by maximising the log marginal likelihood + Optuna's log prior
 *   (−Σ(0.1/λ + 0.1·λ) + Gamma(2, 1) on s + Gamma(1.1, 30) on σ², σ² ≥ 1e-6) with Adam on the log parameters
 *   and analytic gradients, from λ = 1, s = 1, σ² = 0.01; above `maxFitPoints` (64) trials the fit uses the best
 *   half and an even spread of the rest (the posterior always uses every trial);
 * - acquisition log expected improvement over the best standardised value, maximised over random
 *   candidates (legal values of every parameter) followed by a coordinate search from the best few;
 * - running trials are "believed" (kriging believer): they join the data with the posterior mean as their
 *   value, so the variance there collapses and parallel suggestions spread out; a point equal to a finished
 *   or running trial is never proposed again.
 *
 * Everything is a pure function of (seed, trial index, history), so restarted sweeps continue exactly.
 */
import { rngFor } from '#libs/pure/random';

import { choleskyWithJitter, inverseFromCholesky, solveLower, solveUpperT } from './linalg.js';
import { LOG_SQRT_2PI, logNdtr } from './numerics.js';
import { intLogEdges, sampleParam, sampleRandom, snapInt } from './random.js';
import { intHigh, isValidValue, type Params, type ParamSpec, type ParamValue } from './space.js';
import type { StrategyInput, TrialRecord } from './trials.js';

export interface GpOptions {
  /** Random trials before the GP takes over. Default 10 (scaled down for small sweeps, like TPE). */
  nStartupTrials: number;
  /** Hyperparameter fit uses at most this many trials. Default 64 (the fit is O(n³) per iteration). */
  maxFitPoints: number;
  /** Adam iterations of the hyperparameter fit. Default 60. */
  fitIterations: number;
  /** Random candidates scored by the acquisition function (fewer at large n). Default 1024. */
  nCandidates: number;
}

/**
 * The most trials a GP sweep may ask for. Each suggestion refits the Gaussian process on every finished trial
 * (Cholesky, O(n³)), on the worker's thread inside the scheduler's transaction: 0.14 s at 500 trials, 0.5 s at
 * 1,000, 2.5 s at 2,000 and about 40 s at 5,000 here (`node bench/gp-cost.mjs`). Fitting a subset instead (the best
 * half and a spread of the rest) was tried and stalled the search: the dropped trials' regions looked unexplored
 * again (bench/README.md). Longer sweeps are TPE's, whose cost stays flat (`aboveKernels`).
 */
export const GP_MAX_TRIALS = 1000;

export function resolveGpOptions(partial: Partial<GpOptions> | undefined, maxTrials: number): GpOptions {
  const startup =
    !Number.isFinite(maxTrials) || maxTrials <= 0 ? 10 : Math.min(10, Math.max(2, Math.floor(maxTrials / 5)));
  return {
    nStartupTrials: partial?.nStartupTrials ?? startup,
    maxFitPoints: partial?.maxFitPoints ?? 64,
    fitIterations: partial?.fitIterations ?? 60,
    nCandidates: partial?.nCandidates ?? 1024,
  };
}

// ---------------------------------------------------------------------------------------------
// Kernel

const SQRT5 = Math.sqrt(5);
const MIN_NOISE = 1e-6;

/** Matérn 5/2 of r² (unit scale): (1 + √5·r + 5/3·r²)·exp(−√5·r). */
export function matern52(r2: number): number {
  const r = Math.sqrt(Math.max(0, r2));
  return (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
}

/** d matern52 / d(r²) = −5/6·(1 + √5·r)·exp(−√5·r). */
export function matern52GradR2(r2: number): number {
  const r = Math.sqrt(Math.max(0, r2));
  return (-5 / 6) * (1 + SQRT5 * r) * Math.exp(-SQRT5 * r);
}

/** r² between two encoded points. */
export function squaredDistance(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  invSqLs: ArrayLike<number>,
  isCat: readonly boolean[],
): number {
  let r2 = 0;
  for (let d = 0; d < isCat.length; d++) {
    const diff = isCat[d] ? (a[d] === b[d] ? 0 : 1) : a[d]! - b[d]!;
    r2 += invSqLs[d]! * diff * diff;
  }
  return r2;
}

// ---------------------------------------------------------------------------------------------
// Log expected improvement

/** log(φ(z) + z·Φ(z)), the log of the expected improvement of a unit Gaussian over a margin z, stable for z ≪ 0. */
export function logH(z: number): number {
  const logPhi = -0.5 * z * z - LOG_SQRT_2PI;
  if (z > -8) {
    const v = Math.exp(logPhi) + z * Math.exp(logNdtr(z));
    if (v > 0) return Math.log(v);
  }
  // φ(z)·(1/z² − 3/z⁴ + 15/z⁶ − 105/z⁸) for z → −∞ (the Mills-ratio series)
  const t2 = 1 / (z * z);
  return logPhi + Math.log(t2 * (1 - 3 * t2 + 15 * t2 * t2 - 105 * t2 * t2 * t2));
}

/** log EI for minimisation: log E[max(best − f, 0)], f ~ N(mean, sd²). */
export function logExpectedImprovement(mean: number, sd: number, best: number): number {
  if (!(sd > 0)) return best > mean ? Math.log(best - mean) : -Infinity;
  return logH((best - mean) / sd) + Math.log(sd);
}

// ---------------------------------------------------------------------------------------------
// Gaussian process

export interface GpHyper {
  invSqLengthScales: Float64Array;
  kernelScale: number;
  noiseVar: number;
}

export interface GpModel {
  X: Float64Array[];
  isCat: boolean[];
  hyper: GpHyper;
  L: Float64Array;
  alpha: Float64Array;
}

function kernelMatrix(X: readonly Float64Array[], isCat: boolean[], hyper: GpHyper, withNoise: boolean): Float64Array {
  const n = X.length;
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const k = hyper.kernelScale * matern52(squaredDistance(X[i]!, X[j]!, hyper.invSqLengthScales, isCat));
      K[i * n + j] = k;
      K[j * n + i] = k;
    }
    if (withNoise) K[i * n + i]! += hyper.noiseVar;
  }
  return K;
}

/** Log marginal likelihood + log prior, and its gradient w.r.t. the raw parameters [log λ_d…, log s, log(σ² − min)]. */
export function logPosteriorAndGrad(
  X: readonly Float64Array[],
  y: ArrayLike<number>,
  isCat: boolean[],
  raw: Float64Array,
  diff2: Float64Array = squaredDiffs(X, isCat),
): { value: number; grad: Float64Array } {
  const D = isCat.length;
  const n = X.length;
  const lambdas = new Float64Array(D);
  for (let d = 0; d < D; d++) lambdas[d] = Math.exp(raw[d]!);
  const s = Math.exp(raw[D]!);
  const noise = MIN_NOISE + Math.exp(raw[D + 1]!);
  const r2 = new Float64Array(n * n);
  const Kf = new Float64Array(n * n);
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let d2 = 0;
      const off = (i * n + j) * D;
      for (let d = 0; d < D; d++) d2 += lambdas[d]! * diff2[off + d]!;
      const kf = s * matern52(d2);
      r2[i * n + j] = r2[j * n + i] = d2;
      Kf[i * n + j] = Kf[j * n + i] = kf;
      K[i * n + j] = K[j * n + i] = kf;
    }
    K[i * n + i]! += noise;
  }
  const { L } = choleskyWithJitter(K, n);
  const alpha = solveUpperT(L, n, solveLower(L, n, y));
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += Math.log(L[i * n + i]!);
  let yAlpha = 0;
  for (let i = 0; i < n; i++) yAlpha += y[i]! * alpha[i]!;
  const lml = -0.5 * yAlpha - logDet - 0.5 * n * Math.log(2 * Math.PI);
  let prior = 0;
  for (let d = 0; d < D; d++) prior -= 0.1 / lambdas[d]! + 0.1 * lambdas[d]!;
  prior += Math.log(s) - s; // Gamma(2, 1)
  prior += 0.1 * Math.log(noise) - 30 * noise; // Gamma(1.1, 30)

  // d lml / dθ = ½ tr(W ∂K/∂θ), W = ααᵀ − K⁻¹
  const Kinv = inverseFromCholesky(L, n);
  const grad = new Float64Array(D + 2);
  let trW = 0;
  let wKf = 0;
  const gLambda = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const w = alpha[i]! * alpha[j]! - Kinv[i * n + j]!;
      if (i === j) trW += w;
      wKf += w * Kf[i * n + j]!;
      if (i === j) continue;
      const dk = w * s * matern52GradR2(r2[i * n + j]!);
      const off = (i * n + j) * D;
      for (let d = 0; d < D; d++) gLambda[d]! += dk * diff2[off + d]!;
    }
  }
  for (let d = 0; d < D; d++) {
    const l = lambdas[d]!;
    grad[d] = 0.5 * gLambda[d]! * l + (0.1 / l - 0.1 * l); // chain rule through log λ, plus the prior
  }
  grad[D] = 0.5 * wKf + (1 - s);
  const nv = noise - MIN_NOISE;
  grad[D + 1] = 0.5 * trW * nv + (0.1 / noise - 30) * nv;
  return { value: lml + prior, grad };
}

/** Per pair (i, j) and dim d the squared difference (0/1 for categoricals), row-major [i][j][d]. */
export function squaredDiffs(X: readonly Float64Array[], isCat: readonly boolean[]): Float64Array {
  const n = X.length;
  const D = isCat.length;
  const out = new Float64Array(n * n * D);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const off = (i * n + j) * D;
      for (let d = 0; d < D; d++) {
        const diff = isCat[d] ? (X[i]![d] === X[j]![d] ? 0 : 1) : X[i]![d]! - X[j]![d]!;
        out[off + d] = diff * diff;
      }
    }
  }
  return out;
}

/** Maximises the log posterior of the hyperparameters with Adam on the raw (log) parameters. */
export function fitHyper(
  X: readonly Float64Array[],
  y: ArrayLike<number>,
  isCat: boolean[],
  iterations: number,
): GpHyper {
  const D = isCat.length;
  const raw = new Float64Array(D + 2); // λ = 1, s = 1
  raw[D + 1] = Math.log(0.01 - MIN_NOISE);
  const m = new Float64Array(D + 2);
  const v = new Float64Array(D + 2);
  const b1 = 0.9;
  const b2 = 0.999;
  let best = { value: -Infinity, raw: Float64Array.from(raw) };
  const diff2 = squaredDiffs(X, isCat);
  for (let t = 1; t <= iterations; t++) {
    let res: { value: number; grad: Float64Array };
    try {
      res = logPosteriorAndGrad(X, y, isCat, raw, diff2);
    } catch {
      break; // not positive definite even with jitter: keep the best so far
    }
    if (res.value > best.value) best = { value: res.value, raw: Float64Array.from(raw) };
    const lr = 0.1 * (1 - (0.9 * (t - 1)) / Math.max(1, iterations - 1));
    for (let i = 0; i < raw.length; i++) {
      const g = res.grad[i]!;
      if (!Number.isFinite(g)) continue;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      const mh = m[i]! / (1 - b1 ** t);
      const vh = v[i]! / (1 - b2 ** t);
      raw[i]! += (lr * mh) / (Math.sqrt(vh) + 1e-8);
      raw[i] = Math.min(12, Math.max(-12, raw[i]!));
    }
  }
  const r = best.raw;
  return {
    invSqLengthScales: Float64Array.from({ length: D }, (_, d) => Math.exp(r[d]!)),
    kernelScale: Math.exp(r[D]!),
    noiseVar: MIN_NOISE + Math.exp(r[D + 1]!),
  };
}

export function buildModel(X: Float64Array[], y: ArrayLike<number>, isCat: boolean[], hyper: GpHyper): GpModel {
  const n = X.length;
  const { L } = choleskyWithJitter(kernelMatrix(X, isCat, hyper, true), n);
  const alpha = solveUpperT(L, n, solveLower(L, n, y));
  return { X, isCat, hyper, L, alpha };
}

/** Posterior mean and standard deviation of the latent function at x. */
export function predict(model: GpModel, x: ArrayLike<number>): { mean: number; sd: number } {
  const n = model.X.length;
  const ks = new Float64Array(n);
  const { hyper, isCat } = model;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    ks[i] = hyper.kernelScale * matern52(squaredDistance(model.X[i]!, x, hyper.invSqLengthScales, isCat));
    mean += ks[i]! * model.alpha[i]!;
  }
  const v = solveLower(model.L, n, ks);
  let vv = 0;
  for (let i = 0; i < n; i++) vv += v[i]! * v[i]!;
  return { mean, sd: Math.sqrt(Math.max(1e-12, hyper.kernelScale - vv)) };
}

// ---------------------------------------------------------------------------------------------
// Encoding parameters

interface Dim {
  name: string;
  spec: ParamSpec;
  isCat: boolean;
  encode(v: unknown): number | undefined;
  /** Legal value nearest to an encoded coordinate. */
  decode(x: number): ParamValue;
}

function dimOf(name: string, spec: ParamSpec): Dim {
  if (spec.type === 'choice') {
    return {
      name,
      spec,
      isCat: true,
      encode: (v) => {
        const i = spec.values.indexOf(v as ParamValue);
        return i < 0 ? undefined : i;
      },
      decode: (x) => spec.values[Math.min(spec.values.length - 1, Math.max(0, Math.round(x)))]!,
    };
  }
  const isLog = spec.type === 'loguniform' || (spec.type === 'int' && spec.log === true);
  const [lo, hi] =
    spec.type === 'int' ? (spec.log ? intLogEdges(spec) : [spec.min, intHigh(spec)]) : [spec.min, spec.max];
  const a = isLog ? Math.log(lo) : lo;
  const b = isLog ? Math.log(hi) : hi;
  const width = b - a || 1;
  return {
    name,
    spec,
    isCat: false,
    encode: (v) => (isValidValue(spec, v) ? ((isLog ? Math.log(v as number) : (v as number)) - a) / width : undefined),
    decode: (x) => {
      const raw = a + Math.min(1, Math.max(0, x)) * width;
      const val = isLog ? Math.exp(raw) : raw;
      if (spec.type === 'int') return snapInt(spec, val);
      return Math.min(spec.max, Math.max(spec.min, val));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Suggest

export interface GpInput extends StrategyInput {
  gp?: Partial<GpOptions>;
}

function pointKey(x: ArrayLike<number>): string {
  return Array.from(x, (v) => v.toPrecision(12)).join(',');
}

/** Subset for the hyperparameter fit: the best half of `maxPoints` and an even spread of the others. */
function fitSubset(order: number[], maxPoints: number): number[] {
  if (order.length <= maxPoints) return order;
  const nBest = Math.floor(maxPoints / 2);
  const rest = order.slice(nBest);
  const nRest = maxPoints - nBest;
  const picked = Array.from({ length: nRest }, (_, i) => rest[Math.floor((i * rest.length) / nRest)]!);
  return [...order.slice(0, nBest), ...picked];
}

/** One GP suggestion (random during the startup phase). */
export function suggestGp(input: GpInput): Params {
  const opts = resolveGpOptions(input.gp, input.maxTrials);
  const rng = rngFor(input.seed, input.trialIndex);
  const dims = Object.entries(input.space).map(([n, s]) => dimOf(n, s));
  const isCat = dims.map((d) => d.isCat);
  const others = input.history.filter((t) => t.index !== input.trialIndex);
  const encodeTrial = (t: TrialRecord): Float64Array | null => {
    const x = new Float64Array(dims.length);
    for (let d = 0; d < dims.length; d++) {
      const e = dims[d]!.encode(t.params?.[dims[d]!.name]);
      if (e === undefined) return null;
      x[d] = e;
    }
    return x;
  };
  const finished: { x: Float64Array; y: number }[] = [];
  const running: Float64Array[] = [];
  const sign = input.goal === 'MINIMIZE' ? 1 : -1;
  for (const t of others) {
    const x = encodeTrial(t);
    if (!x) continue;
    if (t.state === 'complete' && typeof t.value === 'number' && Number.isFinite(t.value))
      finished.push({ x, y: sign * t.value });
    else if (t.state === 'pending') running.push(x);
  }
  if (finished.length < Math.max(1, opts.nStartupTrials)) return sampleRandom(input.space, rng);

  // standardise (lower is better)
  const ys = finished.map((f) => f.y);
  const mu = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sd = Math.sqrt(ys.reduce((a, b) => a + (b - mu) ** 2, 0) / ys.length) || 1;
  const yStd = ys.map((v) => (v - mu) / sd);
  const X = finished.map((f) => f.x);

  const order = yStd.map((_, i) => i).sort((a, b) => yStd[a]! - yStd[b]! || a - b);
  const sub = fitSubset(order, opts.maxFitPoints);
  const hyper = fitHyper(
    sub.map((i) => X[i]!),
    sub.map((i) => yStd[i]!),
    isCat,
    opts.fitIterations,
  );
  let model = buildModel(X, yStd, isCat, hyper);
  const bestY = Math.min(...yStd);
  if (running.length > 0) {
    // kriging believer: running trials take the posterior mean as their value
    const believed = running.map((x) => predict(model, x).mean);
    model = buildModel([...X, ...running], [...yStd, ...believed], isCat, hyper);
  }
  const taken = new Set([...X, ...running].map(pointKey));
  let evaluations = 0;
  const acq = (x: Float64Array): number => {
    evaluations++;
    if (taken.has(pointKey(x))) return -Infinity;
    const p = predict(model, x);
    return logExpectedImprovement(p.mean, p.sd, bestY);
  };

  // Each acquisition value costs O(n²) (a triangular solve): at most ~1.2e8 / n² of them per suggestion (no limit
  // that matters below ~100 trials), half for random candidates, the rest for the coordinate search.
  const n = model.X.length;
  const budget = Math.max(400, Math.floor(1.2e8 / (n * n + 1)));
  const nCand = Math.max(64, Math.min(opts.nCandidates, Math.floor(budget / 2)));
  const encodeParams = (p: Params): Float64Array => Float64Array.from(dims, (d) => d.encode(p[d.name])!);
  const scored: { x: Float64Array; a: number }[] = [];
  for (let i = 0; i < nCand; i++) {
    const x = encodeParams(Object.fromEntries(dims.map((d) => [d.name, sampleParam(d.spec, rng)])));
    scored.push({ x, a: acq(x) });
  }
  // the best finished points as starts too, slightly moved
  for (const i of order.slice(0, 3)) {
    const x = Float64Array.from(X[i]!);
    scored.push({ x, a: acq(x) });
  }
  scored.sort((a, b) => b.a - a.a);
  let best = scored[0]!;
  // coordinate search from the best few: numerical dims by shrinking steps, categoricals by every value
  for (const start of scored.slice(0, 3)) {
    let cur = { x: Float64Array.from(start.x), a: start.a };
    for (let step = 0.1; step >= 0.002; step /= 3) {
      for (let round = 0; round < 2; round++) {
        let improved = false;
        for (let d = 0; d < dims.length; d++) {
          const dim = dims[d]!;
          const tries: number[] =
            dim.spec.type === 'choice' ? dim.spec.values.map((_, k) => k) : [cur.x[d]! - step, cur.x[d]! + step];
          for (const t of tries) {
            if (evaluations >= budget) break;
            const x = Float64Array.from(cur.x);
            x[d] = dim.encode(dim.decode(t))!;
            if (x[d] === cur.x[d]) continue;
            const a = acq(x);
            if (a > cur.a) {
              cur = { x, a };
              improved = true;
            }
          }
        }
        if (!improved) break;
      }
    }
    if (cur.a > best.a) best = cur;
  }
  if (best.a === -Infinity) return sampleRandom(input.space, rng); // every candidate was taken
  const out: Params = {};
  dims.forEach((d, i) => (out[d.name] = d.decode(best.x[i]!)));
  return out;
}
