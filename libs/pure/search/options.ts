/**
 * `createSweep.options`: the strategy's own settings, validated here and stored with the sweep (resolved, so
 * a later change of a default never changes what a running sweep suggests).
 *
 * - TPE: `multivariate` (boolean, default true for new sweeps: Optuna 5's default), `nStartupTrials`
 *   (int 1..maxTrials, default min(10, max(2, floor(maxTrials/5)))), `nEiCandidates` (int 1..1000, default 24),
 *   and the Parzen estimator's settings (see ./tpe.ts): `bandwidth` ('scott' | 'neighbours'), `magicClipExponent`
 *   (number 0.5..4), `minBandwidthFactor` (number 0..0.5), `improvementWeights`, `sharpLiar` (booleans). Their
 *   defaults depend on `multivariate`: {@link TUNED_JOINT_ESTIMATOR} for the joint estimator (chosen on
 *   held-out seeds, see bench/README.md), Optuna's settings ({@link OPTUNA_ESTIMATOR}) for the univariate one,
 *   where the tuned set did worse. `aboveKernels` (int 25..10,000, default {@link ABOVE_KERNELS}): g(x) from at most
 *   this many of the newest "above" trials, which keeps a suggestion's cost, and what the scheduler reads for it,
 *   from growing with the sweep (tpe.ts).
 * - GP: `nStartupTrials` (int 1..maxTrials, same default).
 * - GRID, RANDOM, HYPERBAND: no options (null, absent or {}).
 *
 * A sweep stored without options (made before options existed) keeps the library defaults (univariate TPE), and
 * one stored without the estimator's settings (made before they existed) keeps Optuna's: absent keys mean the
 * library defaults, so a stored sweep suggests what it always did (a TPE sweep stored without `aboveKernels` keeps
 * every trial's kernel in g(x)).
 */
import { UserInputError } from '#libs/pure/errors';

import type { GpOptions } from './gp.js';
import type { Strategy } from './space.js';
import { defaultStartupTrials, type TpeOptions } from './tpe.js';

/** A bad `options` of a sweep: the message starts with the path at fault (`options.nEiCandidates ...`). */
export class SearchOptionsError extends UserInputError {
  override name = 'SearchOptionsError';
}

/** The Parzen estimator's settings that a sweep stores. */
export type EstimatorOptions = Pick<
  TpeOptions,
  'bandwidth' | 'magicClipExponent' | 'minBandwidthFactor' | 'improvementWeights' | 'sharpLiar'
>;

export interface StrategyOptions extends Partial<EstimatorOptions> {
  multivariate?: boolean;
  nStartupTrials?: number;
  nEiCandidates?: number;
  aboveKernels?: number;
}

/**
 * New TPE sweeps' cap on g(x)'s kernels: far above the 50 trials the search bench runs (where it changes nothing),
 * small enough that a suggestion at trial 5,000 costs about what it costs at trial 300 (bench/README.md, issue 13).
 */
export const ABOVE_KERNELS = 250;

/** Optuna's estimator (also the library default): neighbour bandwidths, magic clip range/(n+2), flat weights. */
export const OPTUNA_ESTIMATOR: Readonly<EstimatorOptions> = {
  bandwidth: 'neighbours',
  magicClipExponent: 1,
  minBandwidthFactor: 0,
  improvementWeights: false,
  sharpLiar: false,
};

/**
 * The joint estimator of new multivariate sweeps: Watanabe 2023's components (Scott's-rule bandwidths, a magic
 * clip of range/(n+2)^1.5 floored at 3 % of the range, good trials weighted by their improvement) and running
 * trials' kernels in g(x) no wider than the good group's. Chosen on held-out seeds (2000..2099, then 3000..3099
 * and 4000..4099; never the bench's 1000..1019): `node dist/bench/search-heldout.js`, bench/README.md.
 */
export const TUNED_JOINT_ESTIMATOR: Readonly<EstimatorOptions> = {
  bandwidth: 'scott',
  magicClipExponent: 1.5,
  minBandwidthFactor: 0.03,
  improvementWeights: true,
  sharpLiar: true,
};

const ESTIMATOR_KEYS = Object.keys(OPTUNA_ESTIMATOR) as (keyof EstimatorOptions)[];

const ALLOWED: Record<Strategy, string[]> = {
  TPE: ['multivariate', 'nStartupTrials', 'nEiCandidates', ...ESTIMATOR_KEYS, 'aboveKernels'],
  GP: ['nStartupTrials'],
  GRID: [],
  RANDOM: [],
  HYPERBAND: [],
};

function numberIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const got = JSON.stringify(v);
    throw new SearchOptionsError(`options.${name} must be a number between ${min} and ${max}, got ${got}`);
  }
  return v;
}

function booleanOption(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') {
    throw new SearchOptionsError(`options.${name} must be true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bandwidthOption(v: unknown): EstimatorOptions['bandwidth'] {
  if (v !== 'scott' && v !== 'neighbours') {
    throw new SearchOptionsError(`options.bandwidth must be "scott" or "neighbours", got ${JSON.stringify(v)}`);
  }
  return v;
}

/** The estimator's settings of `obj`, each absent one from `defaults`. */
function estimatorOptions(obj: Record<string, unknown>, defaults: Readonly<EstimatorOptions>): EstimatorOptions {
  const pick = <T>(key: keyof EstimatorOptions, parse: (v: unknown) => T): T =>
    obj[key] === undefined ? (defaults[key] as T) : parse(obj[key]);
  return {
    bandwidth: pick('bandwidth', bandwidthOption),
    magicClipExponent: pick('magicClipExponent', (v) => numberIn('magicClipExponent', v, 0.5, 4)),
    minBandwidthFactor: pick('minBandwidthFactor', (v) => numberIn('minBandwidthFactor', v, 0, 0.5)),
    improvementWeights: pick('improvementWeights', (v) => booleanOption('improvementWeights', v)),
    sharpLiar: pick('sharpLiar', (v) => booleanOption('sharpLiar', v)),
  };
}

function intIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SearchOptionsError(
      `options.${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** Validates `options` for the strategy and returns them with every default filled in (null when it takes none). */
export function parseStrategyOptions(raw: unknown, strategy: Strategy, maxTrials: number): StrategyOptions | null {
  const allowed = ALLOWED[strategy] ?? [];
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SearchOptionsError(`options must be an object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new SearchOptionsError(
        allowed.length === 0
          ? `options.${key}: strategy ${strategy} takes no options`
          : `options.${key} is not an option of ${strategy} (it takes: ${allowed.join(', ')})`,
      );
    }
  }
  if (allowed.length === 0) return null;
  const startupMax = Math.max(1, maxTrials);
  const nStartupTrials =
    obj.nStartupTrials === undefined
      ? defaultStartupTrials(maxTrials)
      : intIn('nStartupTrials', obj.nStartupTrials, 1, startupMax);
  if (strategy === 'GP') return { nStartupTrials };
  const multivariate = obj.multivariate === undefined ? true : booleanOption('multivariate', obj.multivariate);
  return {
    multivariate,
    nStartupTrials,
    nEiCandidates: obj.nEiCandidates === undefined ? 24 : intIn('nEiCandidates', obj.nEiCandidates, 1, 1000),
    aboveKernels: obj.aboveKernels === undefined ? ABOVE_KERNELS : intIn('aboveKernels', obj.aboveKernels, 25, 10_000),
    ...estimatorOptions(obj, multivariate ? TUNED_JOINT_ESTIMATOR : OPTUNA_ESTIMATOR),
  };
}

/** The `tpe` / `gp` parts of a suggest() context for stored options (undefined = library defaults). */
export function suggestOptions(
  strategy: Strategy,
  stored: unknown,
): { tpe?: Partial<TpeOptions>; gp?: Partial<GpOptions> } {
  if (!stored || typeof stored !== 'object') return {};
  const o = stored as StrategyOptions;
  if (strategy === 'TPE') {
    const tpe: Partial<TpeOptions> = {};
    if (o.multivariate !== undefined) tpe.multivariate = o.multivariate;
    if (o.nStartupTrials !== undefined) tpe.nStartupTrials = o.nStartupTrials;
    if (o.nEiCandidates !== undefined) tpe.nEiCandidates = o.nEiCandidates;
    if (o.aboveKernels !== undefined) tpe.aboveKernels = o.aboveKernels;
    for (const key of ESTIMATOR_KEYS) if (o[key] !== undefined) Object.assign(tpe, { [key]: o[key] });
    return { tpe };
  }
  if (strategy === 'GP') return o.nStartupTrials !== undefined ? { gp: { nStartupTrials: o.nStartupTrials } } : {};
  return {};
}
