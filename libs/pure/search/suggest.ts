import { rngFor } from '#libs/pure/random';

import { type GpOptions, suggestGp } from './gp.js';
import { sampleRandom } from './random.js';
import { gridPoint, type Params, type SearchSpace, type Strategy } from './space.js';
import { suggestTpe, type TpeOptions } from './tpe.js';
import type { Goal, TrialRecord } from './trials.js';

export interface SuggestContext {
  strategy: Strategy;
  space: SearchSpace;
  goal: Goal;
  /** Sweep seed; with trialIndex it fully determines the random stream of this suggestion. */
  seed: number;
  /** Index of the trial being asked for (0-based). */
  trialIndex: number;
  /** Every trial of the sweep so far (a record with index === trialIndex is ignored). */
  history: TrialRecord[];
  /** Sweep budget; TPE derives its default number of startup trials from it. */
  maxTrials: number;
  tpe?: Partial<TpeOptions>;
  gp?: Partial<GpOptions>;
}

/**
 * Parameters for trial `trialIndex` of a sweep, as a pure function of the context:
 * the same history, seed and index always give the same parameters.
 * Returns null when there is nothing more to ask (GRID exhausted).
 *
 * - GRID: the trialIndex-th combination (first parameter = outermost loop).
 * - RANDOM / HYPERBAND: independent uniform draws (log params uniform in log space).
 * - TPE: see ./tpe.ts.
 * - GP: see ./gp.ts.
 */
export function suggest(ctx: SuggestContext): Params | null {
  switch (ctx.strategy) {
    case 'GRID':
      return gridPoint(ctx.space, ctx.trialIndex);
    case 'RANDOM':
    case 'HYPERBAND':
      return sampleRandom(ctx.space, rngFor(ctx.seed, ctx.trialIndex));
    case 'TPE':
      return suggestTpe(ctx);
    case 'GP':
      return suggestGp(ctx);
    default:
      throw new Error(`unknown search strategy ${String((ctx as { strategy: unknown }).strategy)}`);
  }
}
