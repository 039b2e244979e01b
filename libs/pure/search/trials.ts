import type { Params } from './space.js';

export type Goal = 'MINIMIZE' | 'MAXIMIZE';

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

/** The complete trial with the best (non-NaN) value; ties go to the earliest index. Null if none. */
export function bestTrial(history: readonly TrialRecord[], goal: Goal): TrialRecord | null {
  let best: TrialRecord | null = null;
  for (const t of history) {
    if (t.state !== 'complete' || typeof t.value !== 'number' || Number.isNaN(t.value)) continue;
    if (best === null || isBetter(t.value, best.value, goal) || (t.value === best.value && t.index < best.index)) best = t;
  }
  return best;
}

/** Intermediate values as sorted [epoch, value] pairs. */
export function intermediateEntries(t: TrialRecord): [number, number][] {
  if (!t.intermediate) return [];
  return Object.entries(t.intermediate)
    .map(([k, v]) => [Number(k), v] as [number, number])
    .filter(([k, v]) => Number.isFinite(k) && typeof v === 'number')
    .sort((x, y) => x[0] - y[0]);
}
