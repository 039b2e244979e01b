import { describe, expect, it } from 'vitest';

import { mulberry32 } from '#libs/pure/random';

import {
  ashaRungs,
  EarlyStoppingError,
  type EarlyStoppingRule,
  type Goal,
  hyperbandBracketOf,
  hyperbandBrackets,
  isBetter,
  medianRulePrunes,
  parseEarlyStopping,
  ruleChecksAt,
  shouldPrune,
  type TrialRecord,
} from './index.js';

/** A learning curve: loss decaying from `start` towards `floor`. */
function curve(start: number, floor: number, epochs: number): Record<number, number> {
  const out: Record<number, number> = {};
  for (let e = 1; e <= epochs; e++) out[e] = floor + (start - floor) * Math.exp(-0.3 * (e - 1));
  return out;
}

function trial(index: number, state: TrialRecord['state'], intermediate: Record<number, number>): TrialRecord {
  const epochs = Object.keys(intermediate).map(Number);
  const last = intermediate[Math.max(...epochs)];
  return { index, params: {}, state, intermediate, ...(state === 'complete' ? { value: last } : {}) };
}

function upTo(t: TrialRecord, epoch: number): TrialRecord {
  const intermediate: Record<number, number> = {};
  for (const [k, v] of Object.entries(t.intermediate ?? {})) if (Number(k) <= epoch) intermediate[Number(k)] = v;
  return { ...t, state: 'pending', intermediate, value: undefined };
}

const prune = (
  rule: EarlyStoppingRule,
  t: TrialRecord,
  epoch: number,
  history: TrialRecord[],
  goal: Goal = 'MINIMIZE',
) => shouldPrune(rule, { goal, trial: upTo(t, epoch), epoch, history: [...history, upTo(t, epoch)] });

describe('parseEarlyStopping', () => {
  it('fills in defaults', () => {
    expect(parseEarlyStopping(undefined, 'RANDOM', 20)).toBeNull();
    expect(parseEarlyStopping(null, 'TPE', 20)).toBeNull();
    expect(parseEarlyStopping({ rule: 'median' }, 'TPE', 20)).toEqual({
      rule: 'median',
      minTrials: 5,
      warmupEpochs: 2,
    });
    expect(parseEarlyStopping('median', 'TPE', 20)).toEqual({ rule: 'median', minTrials: 5, warmupEpochs: 2 });
    expect(parseEarlyStopping({ rule: 'asha' }, 'RANDOM', 20)).toEqual({
      rule: 'asha',
      reductionFactor: 4,
      minEpochs: 1,
      maxEpochs: 20,
    });
    expect(parseEarlyStopping({ rule: 'asha', reductionFactor: 2, minEpochs: 2, maxEpochs: 16 }, 'GRID', 20)).toEqual({
      rule: 'asha',
      reductionFactor: 2,
      minEpochs: 2,
      maxEpochs: 16,
    });
    expect(parseEarlyStopping({ rule: 'hyperband', minEpochs: 1, maxEpochs: 9 }, 'TPE', 9)).toEqual({
      rule: 'hyperband',
      reductionFactor: 3,
      minEpochs: 1,
      maxEpochs: 9,
    });
  });

  it('always yields a hyperband rule for the HYPERBAND strategy', () => {
    expect(parseEarlyStopping(undefined, 'HYPERBAND', 27)).toEqual({
      rule: 'hyperband',
      reductionFactor: 3,
      minEpochs: 1,
      maxEpochs: 27,
    });
    expect(parseEarlyStopping({ minEpochs: 3 }, 'HYPERBAND', 27)).toEqual({
      rule: 'hyperband',
      reductionFactor: 3,
      minEpochs: 3,
      maxEpochs: 27,
    });
    expect(parseEarlyStopping({ rule: 'hyperband', reductionFactor: 2, maxEpochs: 16 }, 'HYPERBAND', 27)).toEqual({
      rule: 'hyperband',
      reductionFactor: 2,
      minEpochs: 1,
      maxEpochs: 16,
    });
    expect(() => parseEarlyStopping({ rule: 'median' }, 'HYPERBAND', 27)).toThrow(
      /earlyStopping\.rule: the HYPERBAND strategy requires the hyperband rule/,
    );
  });

  it('refuses bad settings naming the key', () => {
    const err = (raw: unknown, epochs = 20) => {
      try {
        parseEarlyStopping(raw, 'RANDOM', epochs);
      } catch (e) {
        expect(e).toBeInstanceOf(EarlyStoppingError);
        return (e as Error).message;
      }
      throw new Error('expected an EarlyStoppingError');
    };
    expect(err({ rule: 'patience' })).toMatch(/^earlyStopping\.rule: unknown rule "patience"/);
    expect(err({})).toMatch(/^earlyStopping\.rule: unknown rule undefined/);
    expect(err(42)).toMatch(/^earlyStopping: must be an object/);
    expect(err({ rule: 'median', minTrials: 0 })).toMatch(
      /^earlyStopping\.minTrials: must be an integer ≥ 1 \(got 0\)/,
    );
    expect(err({ rule: 'median', warmupEpochs: -1 })).toMatch(/^earlyStopping\.warmupEpochs: must be an integer ≥ 0/);
    expect(err({ rule: 'median', reductionFactor: 3 })).toMatch(
      /^earlyStopping\.reductionFactor: unknown key for rule median/,
    );
    expect(err({ rule: 'asha', reductionFactor: 1 })).toMatch(
      /^earlyStopping\.reductionFactor: must be an integer ≥ 2/,
    );
    expect(err({ rule: 'asha', reductionFactor: 2.5 })).toMatch(
      /^earlyStopping\.reductionFactor: must be an integer ≥ 2/,
    );
    expect(err({ rule: 'asha', minEpochs: 0 })).toMatch(/^earlyStopping\.minEpochs: must be an integer ≥ 1/);
    expect(err({ rule: 'asha', maxEpochs: 30 })).toMatch(
      /^earlyStopping\.maxEpochs: 30 exceeds the training epochs \(20\)/,
    );
    expect(err({ rule: 'hyperband', minEpochs: 8, maxEpochs: 4 })).toMatch(
      /^earlyStopping\.minEpochs: 8 must not exceed maxEpochs \(4\)/,
    );
    expect(err({ rule: 'asha' }, 0)).toMatch(/^earlyStopping: trainingEpochs must be a positive integer/);
  });
});

describe('median rule', () => {
  const rule: EarlyStoppingRule = { rule: 'median', minTrials: 5, warmupEpochs: 2 };
  const history = [0.9, 1.0, 1.1, 1.2, 1.3, 1.4].map((s, i) =>
    trial(i, i === 5 ? 'pruned' : 'complete', curve(s, s / 3, 10)),
  );

  it('prunes an obviously bad trial after warm-up and keeps good ones', () => {
    const bad = trial(10, 'pending', curve(5, 3, 10));
    const good = trial(11, 'pending', curve(0.8, 0.2, 10));
    expect(prune(rule, bad, 1, history)).toBe(false);
    expect(prune(rule, bad, 2, history)).toBe(false); // warm-up
    expect(prune(rule, bad, 3, history)).toBe(true);
    for (let e = 1; e <= 10; e++) expect(prune(rule, good, e, history)).toBe(false);
  });

  it('waits for minTrials trials at the epoch, ignores pending/failed ones', () => {
    const bad = trial(10, 'pending', curve(5, 3, 10));
    expect(prune(rule, bad, 3, history.slice(0, 4))).toBe(false);
    const others = history
      .slice(0, 4)
      .concat([trial(7, 'pending', curve(1, 0.5, 10)), trial(8, 'failed', curve(1, 0.5, 10))]);
    expect(prune(rule, bad, 3, others)).toBe(false);
    expect(prune({ rule: 'median', minTrials: 4, warmupEpochs: 2 }, bad, 3, others)).toBe(true);
  });

  it('uses the best value so far and the goal', () => {
    // dips below the median at epoch 3, then degrades: best-so-far keeps it alive
    const dip = trial(10, 'pending', { 1: 0.5, 2: 0.4, 3: 0.1, 4: 5, 5: 5 });
    expect(prune(rule, dip, 5, history)).toBe(false);
    const accHistory = history.map((t) => ({
      ...t,
      intermediate: Object.fromEntries(Object.entries(t.intermediate!).map(([k, v]) => [k, 1 - v / 2])),
    }));
    const lowAcc = trial(10, 'pending', curve(0.1, 0.05, 10));
    expect(prune(rule, lowAcc, 3, accHistory, 'MAXIMIZE')).toBe(true);
    expect(prune(rule, trial(11, 'pending', curve(0.95, 0.99, 10)), 3, accHistory, 'MAXIMIZE')).toBe(false);
  });
});

describe('asha rule', () => {
  const rule: EarlyStoppingRule = { rule: 'asha', reductionFactor: 3, minEpochs: 1, maxEpochs: 27 };

  it('has rungs at minEpochs·η^k below maxEpochs', () => {
    expect(ashaRungs(1, 3, 27)).toEqual([1, 3, 9]);
    expect(ashaRungs(2, 4, 100)).toEqual([2, 8, 32]);
  });

  it('keeps the first trial, then only the top 1/η at each rung', () => {
    const first = trial(0, 'pending', curve(1, 0.5, 27));
    expect(prune(rule, first, 1, [])).toBe(false);
    const history = [1, 2, 3, 4, 5, 6, 7, 8].map((s, i) =>
      trial(i, i < 5 ? 'complete' : 'pruned', curve(s, s / 2, i < 5 ? 27 : 3)),
    );
    const bad = trial(20, 'pending', curve(6, 3, 27));
    const good = trial(21, 'pending', curve(0.5, 0.2, 27));
    const middling = trial(22, 'pending', curve(2.5, 1.25, 27));
    expect(prune(rule, bad, 1, history)).toBe(true);
    expect(prune(rule, middling, 1, history)).toBe(false); // 9 competitors → top 3 → 2.5 is 3rd
    expect(prune(rule, middling, 2, history)).toBe(false); // not a rung
    expect(prune(rule, good, 1, history)).toBe(false);
    expect(prune(rule, good, 3, history)).toBe(false);
    expect(prune(rule, good, 9, history)).toBe(false);
    // at rung 9 only the 5 complete trials competed: top ⌊6/3⌋ = 2
    expect(prune(rule, middling, 9, history)).toBe(true);
    // maximise: high is good
    const acc = history.map((t) => ({
      ...t,
      intermediate: Object.fromEntries(Object.entries(t.intermediate!).map(([k, v]) => [k, -v])),
    }));
    const neg = (t: TrialRecord) => ({
      ...t,
      intermediate: Object.fromEntries(Object.entries(t.intermediate!).map(([k, v]) => [k, -v])),
    });
    expect(prune(rule, neg(bad), 1, acc, 'MAXIMIZE')).toBe(true);
    expect(prune(rule, neg(good), 1, acc, 'MAXIMIZE')).toBe(false);
  });

  it('prunes a NaN at a rung', () => {
    expect(prune(rule, trial(3, 'pending', { 1: NaN }), 1, [])).toBe(true);
  });
});

describe('hyperband rule', () => {
  const rule = { rule: 'hyperband' as const, reductionFactor: 3, minEpochs: 1, maxEpochs: 27 };

  it('describes its brackets', () => {
    const b = hyperbandBrackets(rule);
    expect(b.map((x) => x.bracket)).toEqual([0, 1, 2, 3]);
    expect(b.map((x) => x.minEpochs)).toEqual([1, 3, 9, 27]);
    expect(b.map((x) => x.rungs)).toEqual([[1, 3, 9], [3, 9], [9], []]);
    expect(b.map((x) => x.budget)).toEqual([27, 12, 6, 4]);
    expect(b.reduce((a, x) => a + x.share, 0)).toBeCloseTo(1, 12);
    expect(hyperbandBrackets({ minEpochs: 1, maxEpochs: 10 }).map((x) => x.minEpochs)).toEqual([1, 3, 9]);
    expect(hyperbandBrackets({ minEpochs: 5, maxEpochs: 5 })).toEqual([
      { bracket: 0, minEpochs: 5, rungs: [], budget: 1, share: 1 },
    ]);
  });

  it('spreads trials over the brackets by budget share, deterministically and interleaved', () => {
    const counts = [0, 0, 0, 0];
    const ids = Array.from({ length: 49 }, (_, i) => hyperbandBracketOf(rule, i));
    for (const id of ids) counts[id]!++;
    expect(counts).toEqual([27, 12, 6, 4]);
    expect(Array.from({ length: 49 }, (_, i) => hyperbandBracketOf(rule, i + 49))).toEqual(ids);
    expect(new Set(ids.slice(0, 8)).size).toBeGreaterThan(1);
  });

  it('runs ASHA inside a bracket against its own trials only', () => {
    const inBracket = (s: number) =>
      Array.from({ length: 400 }, (_, i) => i).filter((i) => hyperbandBracketOf(rule, i) === s);
    const b0 = inBracket(0);
    const b1 = inBracket(1);
    const b3 = inBracket(3);
    const peers0 = b0.slice(0, 8).map((idx, k) => trial(idx, 'complete', curve(1 + k * 0.1, 0.5, 27)));
    const bad0 = trial(b0[10]!, 'pending', curve(6, 3, 27));
    const good0 = trial(b0[11]!, 'pending', curve(0.5, 0.2, 27));
    expect(prune(rule, bad0, 1, peers0)).toBe(true);
    expect(prune(rule, good0, 1, peers0)).toBe(false);
    expect(prune(rule, good0, 3, peers0)).toBe(false);
    // a bad trial of bracket 1 is first checked at epoch 3, and only against bracket-1 trials
    const bad1 = trial(b1[0]!, 'pending', curve(6, 3, 27));
    expect(prune(rule, bad1, 1, peers0)).toBe(false);
    expect(prune(rule, bad1, 3, peers0)).toBe(false);
    const peers1 = b1.slice(1, 7).map((idx, k) => trial(idx, 'complete', curve(1 + k * 0.1, 0.5, 27)));
    expect(prune(rule, bad1, 3, [...peers0, ...peers1])).toBe(true);
    // bracket 3 (min resource = max) never stops a trial
    const bad3 = trial(b3[0]!, 'pending', curve(60, 30, 27));
    const peers3 = b3.slice(1, 9).map((idx) => trial(idx, 'complete', curve(1, 0.5, 27)));
    for (let e = 1; e <= 27; e++) expect(prune(rule, bad3, e, peers3)).toBe(false);
  });
});

describe('the rules on a summary (what a store keeps instead of the history)', () => {
  const rules: EarlyStoppingRule[] = [
    { rule: 'median', minTrials: 3, warmupEpochs: 1 },
    { rule: 'asha', reductionFactor: 2, minEpochs: 1, maxEpochs: 9 },
    { rule: 'hyperband', reductionFactor: 3, minEpochs: 1, maxEpochs: 9 },
  ];

  it('medianRulePrunes answers as shouldPrune given the count and median of the others', () => {
    const rng = mulberry32(3);
    const states = ['complete', 'pruned', 'pending', 'failed'] as const;
    const answers = new Set<boolean>();
    for (let round = 0; round < 300; round++) {
      const epoch = 1 + Math.floor(rng() * 4);
      const history = Array.from({ length: Math.floor(rng() * 9) }, (_, index) =>
        trial(index, states[Math.floor(rng() * 4)]!, curve(rng() * 2, rng(), 1 + Math.floor(rng() * 5))),
      );
      const own = trial(history.length, 'pending', curve(rng() * 2, rng(), epoch));
      const others = history
        .filter((t) => t.state === 'complete' || t.state === 'pruned')
        .map((t) => t.intermediate?.[epoch])
        .filter((v): v is number => v !== undefined)
        .sort((a, b) => a - b);
      const n = others.length;
      const median = n === 0 ? NaN : n % 2 ? others[(n - 1) / 2]! : (others[n / 2 - 1]! + others[n / 2]!) / 2;
      const goal: Goal = rng() < 0.5 ? 'MINIMIZE' : 'MAXIMIZE';
      const rule = rules[0] as Extract<EarlyStoppingRule, { rule: 'median' }>;
      const answer = medianRulePrunes(rule, goal, epoch, own, { count: n, median });
      expect(answer).toBe(shouldPrune(rule, { goal, trial: own, epoch, history: [...history, own] }));
      answers.add(answer);
    }
    expect([...answers].sort()).toEqual([false, true]);
  });

  it('ruleChecksAt is false wherever shouldPrune could not prune, and true at rungs and past the warm-up', () => {
    expect([1, 2, 3].map((epoch) => ruleChecksAt(rules[0]!, 0, epoch))).toEqual([false, true, true]);
    const asha = [1, 2, 3, 4, 8, 9].map((epoch) => ruleChecksAt(rules[1]!, 0, epoch));
    expect(asha).toEqual([true, true, false, true, true, false]);
    const rule = rules[2] as Extract<EarlyStoppingRule, { rule: 'hyperband' }>;
    const brackets = hyperbandBrackets(rule);
    for (let index = 0; index < 30; index++) {
      const rungs = brackets[hyperbandBracketOf(rule, index, brackets)]!.rungs;
      for (let epoch = 1; epoch <= 9; epoch++) expect(ruleChecksAt(rule, index, epoch)).toBe(rungs.includes(epoch));
    }
    // a NaN prunes at once wherever the rule checks, and nowhere else
    for (const r of rules) {
      for (let epoch = 1; epoch <= 9; epoch++) {
        const own: TrialRecord = { index: 4, params: {}, state: 'pending', intermediate: { [epoch]: NaN } };
        expect(shouldPrune(r, { goal: 'MINIMIZE', trial: own, epoch, history: [own] })).toBe(ruleChecksAt(r, 4, epoch));
      }
    }
  });
});

describe('isBetter', () => {
  it('compares by goal', () => {
    expect(isBetter(1, 2, 'MINIMIZE')).toBe(true);
    expect(isBetter(2, 1, 'MAXIMIZE')).toBe(true);
    expect(isBetter(1, 1, 'MINIMIZE')).toBe(false);
    expect(isBetter(NaN, 1, 'MINIMIZE')).toBe(false);
    expect(isBetter(1, NaN, 'MAXIMIZE')).toBe(true);
    expect(isBetter(1, undefined, 'MAXIMIZE')).toBe(true);
  });
});
