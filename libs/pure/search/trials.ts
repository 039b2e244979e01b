import type { Params, SearchSpace } from './space.js';

export type Goal = 'MINIMIZE' | 'MAXIMIZE';

/** What a model-based strategy (TPE, GP) is asked with: the sweep, the trial wanted, the trials so far. */
export interface StrategyInput {
  space: SearchSpace;
  goal: Goal;
  seed: number;
  trialIndex: number;
  history: readonly TrialRecord[];
  maxTrials: number;
}

export type TrialState = 'pending' | 'complete' | 'pruned' | 'failed';

export interface TrialRecord {
  /** 0-based order in which trials were asked. */
  index: number;
  params: Params;
  /** pending = queued or running. */
  state: TrialState;
  /** Objective value when complete (or last value when pruned). */
  value?: number;
  /** Objective by epoch (1-based), for pruners. */
  intermediate?: Record<number, number>;
}

/**
 * Whether objective value `a` is strictly better than `b` for the goal. NaN is never better;
 * any number is better than NaN; `b` undefined counts as "nothing yet" (a number beats it).
 */
export function isBetter(a: number, b: number | undefined, goal: Goal): boolean {
  if (Number.isNaN(a)) return false;
  if (b === undefined || Number.isNaN(b)) return true;
  return goal === 'MINIMIZE' ? a < b : a > b;
}

/** Intermediate values as sorted [epoch, value] pairs. */
export function intermediateEntries(t: TrialRecord): [number, number][] {
  if (!t.intermediate) return [];
  return Object.entries(t.intermediate)
    .map(([k, v]) => [Number(k), v] as [number, number])
    .filter(([k, v]) => Number.isFinite(k) && typeof v === 'number')
    .sort((x, y) => x[0] - y[0]);
}
