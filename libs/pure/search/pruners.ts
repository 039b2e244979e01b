/**
 * Early-stopping (pruning) rules as pure decisions over the sweep history.
 */
import { UserInputError } from '#libs/pure/errors';

import type { Strategy } from './space.js';
import { type Goal, intermediateEntries, isBetter, type TrialRecord } from './trials.js';

export type MedianRule = { rule: 'median'; minTrials?: number; warmupEpochs?: number };

export type EarlyStoppingRule =
  | MedianRule
  | { rule: 'asha'; reductionFactor?: number; minEpochs?: number; maxEpochs?: number }
  | { rule: 'hyperband'; reductionFactor?: number; minEpochs: number; maxEpochs: number };

/** A bad `earlyStopping`: the message starts with the path at fault (`earlyStopping.minEpochs: ...`). */
export class EarlyStoppingError extends UserInputError {
  override name = 'EarlyStoppingError';
}

export const MEDIAN_DEFAULTS = { minTrials: 5, warmupEpochs: 2 } as const;
export const ASHA_DEFAULTS = { reductionFactor: 4, minEpochs: 1 } as const;
export const HYPERBAND_DEFAULTS = { reductionFactor: 3, minEpochs: 1 } as const;

const RULE_KEYS = {
  median: ['rule', 'minTrials', 'warmupEpochs'],
  asha: ['rule', 'reductionFactor', 'minEpochs', 'maxEpochs'],
  hyperband: ['rule', 'reductionFactor', 'minEpochs', 'maxEpochs'],
} as const;

function show(x: unknown): string {
  try {
    return typeof x === 'string' ? JSON.stringify(x) : (JSON.stringify(x) ?? String(x));
  } catch {
    return String(x);
  }
}

/**
 * Validates the `earlyStopping` setting of a sweep and fills in defaults.
 * - null/undefined → null (no pruning), except for the HYPERBAND strategy, which always gets a
 *   hyperband rule (reductionFactor 3, minEpochs 1, maxEpochs = trainingEpochs unless given).
 * - a bare rule name ('median' | 'asha' | 'hyperband') means that rule with its defaults.
 * - median: minTrials 5, warmupEpochs 2. asha: reductionFactor 4, minEpochs 1,
 *   maxEpochs = trainingEpochs. hyperband: reductionFactor 3, minEpochs 1, maxEpochs = trainingEpochs.
 * Throws {@link EarlyStoppingError} naming the offending key.
 */
export function parseEarlyStopping(raw: unknown, strategy: Strategy, trainingEpochs: number): EarlyStoppingRule | null {
  if (!Number.isInteger(trainingEpochs) || trainingEpochs < 1) {
    throw new EarlyStoppingError(
      `earlyStopping: trainingEpochs must be a positive integer (got ${show(trainingEpochs)})`,
    );
  }
  if (raw === null || raw === undefined) {
    return strategy === 'HYPERBAND'
      ? {
          rule: 'hyperband',
          reductionFactor: HYPERBAND_DEFAULTS.reductionFactor,
          minEpochs: 1,
          maxEpochs: trainingEpochs,
        }
      : null;
  }
  let obj: Record<string, unknown>;
  if (typeof raw === 'string') obj = { rule: raw };
  else if (typeof raw === 'object' && !Array.isArray(raw)) obj = { ...(raw as Record<string, unknown>) };
  else throw new EarlyStoppingError(`earlyStopping: must be an object with a "rule" (got ${show(raw)})`);

  if (strategy === 'HYPERBAND') {
    if (obj.rule === undefined) obj.rule = 'hyperband';
    if (obj.rule !== 'hyperband') {
      throw new EarlyStoppingError(
        `earlyStopping.rule: the HYPERBAND strategy requires the hyperband rule (got ${show(obj.rule)})`,
      );
    }
  }
  const rule = obj.rule;
  if (rule !== 'median' && rule !== 'asha' && rule !== 'hyperband') {
    throw new EarlyStoppingError(`earlyStopping.rule: unknown rule ${show(rule)} (expected median, asha or hyperband)`);
  }
  for (const key of Object.keys(obj)) {
    if (!(RULE_KEYS[rule] as readonly string[]).includes(key)) {
      throw new EarlyStoppingError(
        `earlyStopping.${key}: unknown key for rule ${rule} (allowed: ${RULE_KEYS[rule].join(', ')})`,
      );
    }
  }
  const int = (key: string, dflt: number, min: number): number => {
    const v = obj[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new EarlyStoppingError(`earlyStopping.${key}: must be an integer ≥ ${min} (got ${show(v)})`);
    }
    return v;
  };

  if (rule === 'median') {
    return {
      rule,
      minTrials: int('minTrials', MEDIAN_DEFAULTS.minTrials, 1),
      warmupEpochs: int('warmupEpochs', MEDIAN_DEFAULTS.warmupEpochs, 0),
    };
  }
  const defaults = rule === 'asha' ? ASHA_DEFAULTS : HYPERBAND_DEFAULTS;
  const reductionFactor = int('reductionFactor', defaults.reductionFactor, 2);
  const minEpochs = int('minEpochs', defaults.minEpochs, 1);
  const maxEpochs = int('maxEpochs', trainingEpochs, 1);
  if (maxEpochs > trainingEpochs) {
    throw new EarlyStoppingError(
      `earlyStopping.maxEpochs: ${maxEpochs} exceeds the training epochs (${trainingEpochs})`,
    );
  }
  if (minEpochs > maxEpochs) {
    throw new EarlyStoppingError(`earlyStopping.minEpochs: ${minEpochs} must not exceed maxEpochs (${maxEpochs})`);
  }
  return { rule, reductionFactor, minEpochs, maxEpochs };
}

export interface PruneContext {
  goal: Goal;
  /** The trial that just reported `epoch` (trial.intermediate[epoch] must be set). */
  trial: TrialRecord;
  /** 1-based epoch just reported. */
  epoch: number;
  /** All trials of the sweep (the trial itself may be in it; it is never its own competitor). */
  history: TrialRecord[];
}

function valueAt(t: TrialRecord, epoch: number): number | undefined {
  const v = t.intermediate?.[epoch];
  return typeof v === 'number' ? v : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Whether the trial should stop now.
 * - median: from epoch warmupEpochs+1 on, prune when the trial's best value so far is worse
 *   than the median of the values other complete/pruned trials reported at this epoch, once
 *   at least minTrials of them have.
 * - asha: at each rung epoch minEpochs·η^k (< maxEpochs), prune unless the trial's value at the
 *   rung is within the top ⌊n/η⌋ (at least the best one) of the n values reported at that
 *   epoch by the trials that reached it, itself included (Optuna's SuccessiveHalvingPruner).
 * - hyperband: ASHA within the trial's bracket (see {@link hyperbandBrackets}), competitors
 *   restricted to trials of the same bracket.
 * Only the rung equal to `epoch` is checked, so call this after every reported epoch.
 */
export function shouldPrune(rule: EarlyStoppingRule, ctx: PruneContext): boolean {
  const value = valueAt(ctx.trial, ctx.epoch);
  if (value === undefined) return false;
  switch (rule.rule) {
    case 'median':
      return medianPrune(rule, ctx);
    case 'asha': {
      const eta = rule.reductionFactor ?? ASHA_DEFAULTS.reductionFactor;
      const minEpochs = rule.minEpochs ?? ASHA_DEFAULTS.minEpochs;
      return ashaPrune(minEpochs, eta, rule.maxEpochs, ctx, value, ctx.history);
    }
    case 'hyperband': {
      const eta = rule.reductionFactor ?? HYPERBAND_DEFAULTS.reductionFactor;
      const brackets = hyperbandBrackets(rule);
      const mine = hyperbandBracketOf(rule, ctx.trial.index, brackets);
      const b = brackets[mine]!;
      const peers = ctx.history.filter((t) => hyperbandBracketOf(rule, t.index, brackets) === mine);
      return ashaPrune(b.minEpochs, eta, rule.maxEpochs, ctx, value, peers);
    }
  }
}

/**
 * Whether the rule can stop trial `trialIndex` after `epoch` at all: past the warmup (median), at one of the
 * trial's rungs (asha; hyperband: the rungs of the trial's bracket). {@link shouldPrune} is false at every other
 * epoch, so a store need not gather the other trials' values there.
 */
export function ruleChecksAt(rule: EarlyStoppingRule, trialIndex: number, epoch: number): boolean {
  switch (rule.rule) {
    case 'median':
      return epoch > (rule.warmupEpochs ?? MEDIAN_DEFAULTS.warmupEpochs);
    case 'asha': {
      const eta = rule.reductionFactor ?? ASHA_DEFAULTS.reductionFactor;
      return ashaRungs(rule.minEpochs ?? ASHA_DEFAULTS.minEpochs, eta, rule.maxEpochs).includes(epoch);
    }
    case 'hyperband': {
      const brackets = hyperbandBrackets(rule);
      return brackets[hyperbandBracketOf(rule, trialIndex, brackets)]!.rungs.includes(epoch);
    }
  }
}

function medianPrune(rule: MedianRule, ctx: PruneContext): boolean {
  const others: number[] = [];
  for (const t of ctx.history) {
    if (t.index === ctx.trial.index || (t.state !== 'complete' && t.state !== 'pruned')) continue;
    const v = valueAt(t, ctx.epoch);
    if (v !== undefined && !Number.isNaN(v)) others.push(v);
  }
  const summary = { count: others.length, median: others.length ? median(others) : NaN };
  return medianRulePrunes(rule, ctx.goal, ctx.epoch, ctx.trial, summary);
}

/**
 * The median rule given only what it needs of the other trials: how many complete or pruned trials (the trial
 * itself never among them) reported a non-NaN value at `epoch`, and the median of those values. A store can keep
 * that summary as trials finish instead of reading every trial's value at every check.
 */
export function medianRulePrunes(
  rule: MedianRule,
  goal: Goal,
  epoch: number,
  trial: TrialRecord,
  others: { count: number; median: number },
): boolean {
  const value = valueAt(trial, epoch);
  if (value === undefined) return false;
  const minTrials = rule.minTrials ?? MEDIAN_DEFAULTS.minTrials;
  if (epoch <= (rule.warmupEpochs ?? MEDIAN_DEFAULTS.warmupEpochs)) return false;
  let best = value;
  for (const [e, v] of intermediateEntries(trial)) {
    if (e <= epoch && isBetter(v, best, goal)) best = v;
  }
  if (Number.isNaN(best)) return true;
  if (others.count < Math.max(1, minTrials)) return false;
  return isBetter(others.median, best, goal);
}

/** Rung epochs minEpochs·η^k strictly below maxEpochs (all k when maxEpochs is undefined, capped at 64 rungs). */
export function ashaRungs(minEpochs: number, reductionFactor: number, maxEpochs?: number): number[] {
  const out: number[] = [];
  for (let r = minEpochs; out.length < 64 && (maxEpochs === undefined || r < maxEpochs); r *= reductionFactor)
    out.push(r);
  return out;
}

function ashaPrune(
  minEpochs: number,
  eta: number,
  maxEpochs: number | undefined,
  ctx: PruneContext,
  value: number,
  peers: readonly TrialRecord[],
): boolean {
  const rungs = ashaRungs(minEpochs, eta, maxEpochs);
  if (!rungs.includes(ctx.epoch)) return false;
  if (Number.isNaN(value)) return true;
  const competing: number[] = [value];
  for (const t of peers) {
    if (t.index === ctx.trial.index || t.state === 'failed') continue;
    const v = valueAt(t, ctx.epoch);
    if (v !== undefined && !Number.isNaN(v)) competing.push(v);
  }
  let k = Math.floor(competing.length / eta) - 1;
  if (k < 0) k = 0; // fewer than η competitors: only the best one goes on
  const sorted = competing.sort((a, b) => (ctx.goal === 'MINIMIZE' ? a - b : b - a));
  const threshold = sorted[k]!;
  return ctx.goal === 'MINIMIZE' ? value > threshold : value < threshold;
}

export interface HyperbandBracket {
  /** s: the bracket's first rung is at minEpochs·η^s. */
  bracket: number;
  /** Min resource of this bracket: minEpochs·η^s. */
  minEpochs: number;
  /** Rung epochs at which this bracket's trials may be stopped (empty: never stopped). */
  rungs: number[];
  /** Trial allocation budget (Optuna: ceil(nBrackets·η^(sMax−s) / (sMax−s+1))). */
  budget: number;
  /** budget / total budget: the share of trials assigned to this bracket. */
  share: number;
}

/** Number of brackets: floor(log_η(maxEpochs / minEpochs)) + 1 (computed exactly). */
function bracketCount(minEpochs: number, eta: number, maxEpochs: number): number {
  let s = 0;
  for (let r = minEpochs * eta; r <= maxEpochs; r *= eta) s++;
  return s + 1;
}

/** The brackets s = 0..s_max of a hyperband rule, s_max = floor(log_η(maxEpochs/minEpochs)). */
export function hyperbandBrackets(rule: {
  reductionFactor?: number;
  minEpochs: number;
  maxEpochs: number;
}): HyperbandBracket[] {
  const eta = rule.reductionFactor ?? HYPERBAND_DEFAULTS.reductionFactor;
  const n = bracketCount(rule.minEpochs, eta, rule.maxEpochs);
  const raw = [];
  for (let s = 0; s < n; s++) {
    const sp = n - 1 - s;
    const minEpochs = rule.minEpochs * eta ** s;
    raw.push({
      bracket: s,
      minEpochs,
      rungs: ashaRungs(minEpochs, eta, rule.maxEpochs),
      budget: Math.ceil((n * eta ** sp) / (sp + 1)),
    });
  }
  const total = raw.reduce((a, b) => a + b.budget, 0);
  return raw.map((b) => ({ ...b, share: b.budget / total }));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * The bracket of a trial, from its index only. Within every block of `total budget`
 * consecutive indices each bracket gets exactly its budget, interleaved by a fixed stride
 * coprime with the total (≈ golden ratio) so that consecutive trials land in different brackets.
 */
export function hyperbandBracketOf(
  rule: { reductionFactor?: number; minEpochs: number; maxEpochs: number },
  trialIndex: number,
  brackets: HyperbandBracket[] = hyperbandBrackets(rule),
): number {
  const total = brackets.reduce((a, b) => a + b.budget, 0);
  if (brackets.length <= 1 || total <= 1) return 0;
  let stride = Math.max(1, Math.round(total * 0.6180339887));
  while (gcd(stride, total) !== 1) stride++;
  const i = Math.abs(Math.trunc(trialIndex));
  let slot = Number((BigInt(i) * BigInt(stride)) % BigInt(total));
  for (const b of brackets) {
    slot -= b.budget;
    if (slot < 0) return b.bracket;
  }
  return brackets[brackets.length - 1]!.bracket;
}
