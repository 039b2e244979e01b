/**
 * `createSweep.options`: the strategy's own settings, validated here and stored with the sweep (resolved, so
 * a later change of a default never changes what a running sweep suggests).
 *
 * - TPE: `multivariate` (boolean, default true for new sweeps: Optuna 5's default), `nStartupTrials`
 *   (int 1..maxTrials, default min(10, max(2, floor(maxTrials/5)))), `nEiCandidates` (int 1..1000, default 24).
 * - GP: `nStartupTrials` (int 1..maxTrials, same default).
 * - GRID, RANDOM, HYPERBAND: no options (null, absent or {}).
 *
 * A sweep stored without options (made before options existed) keeps the library defaults (univariate TPE).
 */
import { UserInputError } from '#libs/pure/errors';
import { defaultStartupTrials, type TpeOptions } from './tpe.js';
import type { GpOptions } from './gp.js';
import type { Strategy } from './space.js';

/** A bad `options` of a sweep: the message starts with the path at fault (`options.nEiCandidates ...`). */
export class SearchOptionsError extends UserInputError {
  override name = 'SearchOptionsError';
}

export interface StrategyOptions {
  multivariate?: boolean;
  nStartupTrials?: number;
  nEiCandidates?: number;
}

const ALLOWED: Record<Strategy, string[]> = {
  TPE: ['multivariate', 'nStartupTrials', 'nEiCandidates'],
  GP: ['nStartupTrials'],
  GRID: [],
  RANDOM: [],
  HYPERBAND: [],
};

function intIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SearchOptionsError(`options.${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
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
    obj.nStartupTrials === undefined ? defaultStartupTrials(maxTrials) : intIn('nStartupTrials', obj.nStartupTrials, 1, startupMax);
  if (strategy === 'GP') return { nStartupTrials };
  if (obj.multivariate !== undefined && typeof obj.multivariate !== 'boolean') {
    throw new SearchOptionsError(`options.multivariate must be true or false, got ${JSON.stringify(obj.multivariate)}`);
  }
  return {
    multivariate: (obj.multivariate as boolean | undefined) ?? true,
    nStartupTrials,
    nEiCandidates: obj.nEiCandidates === undefined ? 24 : intIn('nEiCandidates', obj.nEiCandidates, 1, 1000),
  };
}

/** The `tpe` / `gp` parts of a suggest() context for stored options (undefined = library defaults). */
export function suggestOptions(strategy: Strategy, stored: unknown): { tpe?: Partial<TpeOptions>; gp?: Partial<GpOptions> } {
  if (!stored || typeof stored !== 'object') return {};
  const o = stored as StrategyOptions;
  if (strategy === 'TPE') {
    const tpe: Partial<TpeOptions> = {};
    if (o.multivariate !== undefined) tpe.multivariate = o.multivariate;
    if (o.nStartupTrials !== undefined) tpe.nStartupTrials = o.nStartupTrials;
    if (o.nEiCandidates !== undefined) tpe.nEiCandidates = o.nEiCandidates;
    return { tpe };
  }
  if (strategy === 'GP') return o.nStartupTrials !== undefined ? { gp: { nStartupTrials: o.nStartupTrials } } : {};
  return {};
}
