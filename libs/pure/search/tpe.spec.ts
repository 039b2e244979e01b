import { describe, expect, it } from 'vitest';

import { mulberry32 } from '#libs/pure/random';

import {
  defaultGamma,
  defaultStartupTrials,
  defaultWeights,
  type Params,
  resolveTpeOptions,
  type SearchSpace,
  splitTrials,
  suggest,
  type SuggestContext,
  tpeDraws,
  type TpeOptions,
  tpeWindow,
  tpeWindowOf,
  type TrialRecord,
} from './index.js';
import { logGaussMass, ndtr, ndtri, sampleStdTruncNorm } from './numerics.js';
import { TUNED_JOINT_ESTIMATOR } from './options.js';
import {
  buildCategoricalEstimator,
  buildNumericalEstimator,
  estimatorLogPdf,
  newestOf,
  sampleEstimator,
} from './tpe.js';

describe('normal numerics', () => {
  it('Φ, Φ⁻¹ and log masses agree with known values', () => {
    expect(ndtr(0)).toBeCloseTo(0.5, 7);
    expect(ndtr(1.959963985)).toBeCloseTo(0.975, 6);
    for (const p of [1e-10, 0.001, 0.2, 0.5, 0.9, 0.999]) expect(ndtr(ndtri(p)) / p).toBeCloseTo(1, 5);
    expect(Math.exp(logGaussMass(-1, 1))).toBeCloseTo(0.682689492, 6);
    // deep tails: mass of [30, 31] ≈ φ(30)/30 · (1 − e^{-30.5})
    const lm = logGaussMass(30, 31);
    expect(lm).toBeCloseTo(-0.5 * 900 - Math.log(30) - 0.5 * Math.log(2 * Math.PI) + Math.log(1 - 1 / 900), 3);
    expect(logGaussMass(-31, -30)).toBeCloseTo(lm, 9);
    expect(logGaussMass(1, 1)).toBe(-Infinity);
  });

  it('samples the truncated normal inside its bounds', () => {
    const rng = mulberry32(5);
    for (const [a, b] of [
      [-1, 1],
      [2, 3],
      [-40, -39],
      [0, 0.01],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        const z = sampleStdTruncNorm(a, b, rng());
        expect(z).toBeGreaterThanOrEqual(a);
        expect(z).toBeLessThanOrEqual(b);
      }
    }
  });
});

describe('Parzen estimators', () => {
  const opts = resolveTpeOptions({}, 100);

  it('continuous mixture integrates to 1 over [low, high]', () => {
    const est = buildNumericalEstimator([0.1, 0.15, 0.8, 0.3], 0, 1, null, opts);
    let s = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) s += Math.exp(estimatorLogPdf(est, (i + 0.5) / n)) / n;
    expect(s).toBeCloseTo(1, 4);
    expect(est.mus).toEqual([0.1, 0.15, 0.8, 0.3, 0.5]);
    expect(est.sigmas[4]).toBe(1); // prior kernel: sigma = range
    // magic clip: no bandwidth below range / min(100, 1 + kernels)
    for (const s of est.sigmas) expect(s).toBeGreaterThanOrEqual(1 / 6 - 1e-12);
    expect(est.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('discrete mixture sums to 1 over the grid and samples on it', () => {
    const est = buildNumericalEstimator([2, 4, 4, 10], 0, 10, 2, opts);
    let s = 0;
    for (let x = 0; x <= 10; x += 2) s += Math.exp(estimatorLogPdf(est, x));
    expect(s).toBeCloseTo(1, 6);
    const rng = mulberry32(1);
    for (let i = 0; i < 200; i++) expect([0, 2, 4, 6, 8, 10]).toContain(sampleEstimator(est, rng));
  });

  it('categorical estimator is smoothed by the prior and sums to 1', () => {
    const est = buildCategoricalEstimator([0, 0, 2], 4, opts);
    const p = [0, 1, 2, 3].map((c) => Math.exp(estimatorLogPdf(est, c)));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[0]).toBeGreaterThan(p[2]!);
    expect(p[2]).toBeGreaterThan(p[1]!);
    expect(p[1]).toBeGreaterThan(0);
    expect(p[1]).toBeCloseTo(p[3]!, 12);
  });

  it('default gamma, weights and startup trials', () => {
    expect([1, 10, 11, 100, 250, 1000].map(defaultGamma)).toEqual([1, 1, 2, 10, 25, 25]);
    expect(defaultWeights(3)).toEqual([1, 1, 1]);
    const w = defaultWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30, 12);
    expect(w[4]).toBeCloseTo(1, 12);
    expect(w.slice(5).every((x) => x === 1)).toBe(true);
    expect(w[1]! > w[0]! && w[2]! > w[1]!).toBe(true);
    expect([5, 14, 20, 50, 1000, 0].map(defaultStartupTrials)).toEqual([2, 2, 4, 10, 10, 10]);
  });
});

describe('splitTrials', () => {
  it('ranks complete before pruned, pending always bad, failed ignored by caller', () => {
    const t = (
      index: number,
      state: TrialRecord['state'],
      value?: number,
      intermediate?: Record<number, number>,
    ): TrialRecord => ({
      index,
      params: {},
      state,
      value,
      intermediate,
    });
    const trials = [
      t(0, 'complete', 5),
      t(1, 'pruned', undefined, { 1: 0.1, 2: 0.01 }),
      t(2, 'complete', 3),
      t(3, 'pending'),
      t(4, 'pruned', undefined, { 1: -100 }),
    ];
    const s = splitTrials(trials, 'MINIMIZE', 3, true);
    expect(s.below.map((x) => x.index)).toEqual([0, 1, 2]); // 2 complete + the later-pruned one
    expect(s.above.map((x) => x.index)).toEqual([3, 4]);
    const m = splitTrials(trials, 'MAXIMIZE', 1, false);
    expect(m.below.map((x) => x.index)).toEqual([0]);
    expect(m.above.map((x) => x.index)).toEqual([1, 2, 4]);
  });
});

// --------------------------------------------------------------------------------------------

const bowl: SearchSpace = {
  x: { type: 'uniform', min: -5, max: 5 },
  y: { type: 'uniform', min: -5, max: 5 },
  z: { type: 'uniform', min: -5, max: 5 },
};
const bowlF = (p: Params) => ((p.x as number) - 1.5) ** 2 + ((p.y as number) + 2) ** 2 + ((p.z as number) - 0.5) ** 2;

function sweep(
  strategy: 'RANDOM' | 'TPE',
  space: SearchSpace,
  f: (p: Params) => number,
  seed: number,
  n: number,
  goal: 'MINIMIZE' | 'MAXIMIZE' = 'MINIMIZE',
  maxTrials = n,
) {
  const history: TrialRecord[] = [];
  for (let i = 0; i < n; i++) {
    const params = suggest({ strategy, space, goal, seed, trialIndex: i, history, maxTrials })!;
    history.push({ index: i, params, state: 'complete', value: f(params) });
  }
  return history;
}
const best = (h: TrialRecord[], goal: 'MINIMIZE' | 'MAXIMIZE' = 'MINIMIZE') =>
  goal === 'MINIMIZE' ? Math.min(...h.map((t) => t.value!)) : Math.max(...h.map((t) => t.value!));

describe('TPE', () => {
  it('beats random search on a quadratic bowl on average over seeds', () => {
    let tpe = 0;
    let rnd = 0;
    let wins = 0;
    const seeds = 12;
    for (let s = 0; s < seeds; s++) {
      const a = best(sweep('TPE', bowl, bowlF, s, 40));
      const b = best(sweep('RANDOM', bowl, bowlF, s, 40));
      tpe += a / seeds;
      rnd += b / seeds;
      if (a < b) wins++;
    }
    expect(tpe).toBeLessThan(rnd * 0.6);
    expect(wins).toBeGreaterThanOrEqual(8);
  });

  it('maximises when asked to', () => {
    const f = (p: Params) => -bowlF(p);
    let tpe = 0;
    let rnd = 0;
    for (let s = 0; s < 8; s++) {
      tpe += best(sweep('TPE', bowl, f, s, 40, 'MAXIMIZE'), 'MAXIMIZE');
      rnd += best(sweep('RANDOM', bowl, f, s, 40, 'MAXIMIZE'), 'MAXIMIZE');
    }
    expect(tpe).toBeGreaterThan(rnd);
  });

  it('uses random suggestions during startup, identical to RANDOM', () => {
    // maxTrials 50 → 10 startup trials
    const h = sweep('TPE', bowl, bowlF, 3, 10, 'MINIMIZE', 50);
    const r = sweep('RANDOM', bowl, bowlF, 3, 10, 'MINIMIZE', 50);
    expect(sweep('TPE', bowl, bowlF, 3, 10, 'MINIMIZE', 10)).not.toEqual(r); // maxTrials 10 → 2 startup trials
    expect(h.map((t) => t.params)).toEqual(r.map((t) => t.params));
    const ctx = {
      strategy: 'TPE' as const,
      space: bowl,
      goal: 'MINIMIZE' as const,
      seed: 3,
      trialIndex: 10,
      history: h,
      maxTrials: 50,
    };
    expect(suggest(ctx)).not.toEqual(suggest({ ...ctx, strategy: 'RANDOM' }));
    // failed trials do not count towards the startup phase
    const failed = h.map((t) => ({ ...t, state: 'failed' as const }));
    expect(suggest({ ...ctx, history: failed })).toEqual(suggest({ ...ctx, strategy: 'RANDOM' }));
  });

  it('is deterministic given the same history (restart-safe) and ignores the record of the asked trial', () => {
    const h = sweep('TPE', bowl, bowlF, 9, 25);
    const ctx = {
      strategy: 'TPE' as const,
      space: bowl,
      goal: 'MINIMIZE' as const,
      seed: 9,
      trialIndex: 25,
      history: h,
      maxTrials: 50,
    };
    const a = suggest(ctx);
    expect(suggest({ ...ctx, history: structuredClone(h) })).toEqual(a);
    expect(suggest({ ...ctx, history: [...h, { index: 25, params: { x: 0, y: 0, z: 0 }, state: 'pending' }] })).toEqual(
      a,
    );
    expect(suggest({ ...ctx, history: [...h].reverse() })).toEqual(a);
  });

  it('honours all four parameter types', () => {
    const space: SearchSpace = {
      lr: { type: 'loguniform', min: 1e-5, max: 1e-1 },
      dropout: { type: 'uniform', min: 0, max: 0.5 },
      units: { type: 'int', min: 16, max: 250, step: 16 }, // grid tops at 240
      layers: { type: 'int', min: 1, max: 128, log: true },
      act: { type: 'choice', values: ['relu', 'tanh', 'gelu', 'elu'] },
    };
    const f = (p: Params) =>
      (Math.log10(p.lr as number) + 3) ** 2 +
      10 * ((p.dropout as number) - 0.1) ** 2 +
      (((p.units as number) - 160) / 64) ** 2 +
      (Math.log2(p.layers as number) - 3) ** 2 / 4 +
      (p.act === 'gelu' ? 0 : 1);
    let tpeSum = 0;
    let rndSum = 0;
    let gelu = 0;
    let late = 0;
    for (let s = 0; s < 6; s++) {
      const h = sweep('TPE', space, f, s, 60);
      const r = sweep('RANDOM', space, f, s, 60);
      tpeSum += best(h);
      rndSum += best(r);
      for (const t of h) {
        const p = t.params;
        expect(p.lr).toBeGreaterThanOrEqual(1e-5);
        expect(p.lr).toBeLessThanOrEqual(1e-1);
        expect(p.dropout).toBeGreaterThanOrEqual(0);
        expect(p.dropout).toBeLessThanOrEqual(0.5);
        expect(Number.isInteger(p.units)).toBe(true);
        expect(((p.units as number) - 16) % 16).toBe(0);
        expect(p.units).toBeLessThanOrEqual(240);
        expect(p.units).toBeGreaterThanOrEqual(16);
        expect(Number.isInteger(p.layers)).toBe(true);
        expect(p.layers).toBeGreaterThanOrEqual(1);
        expect(p.layers).toBeLessThanOrEqual(128);
        expect(['relu', 'tanh', 'gelu', 'elu']).toContain(p.act);
      }
      for (const t of h.slice(30)) {
        late++;
        if (t.params.act === 'gelu') gelu++;
      }
    }
    expect(tpeSum).toBeLessThan(rndSum);
    // the good category dominates once TPE has seen it (random would give 25%)
    expect(gelu / late).toBeGreaterThan(0.5);
  });

  it('constant liar: pending trials push parallel suggestions apart', () => {
    const dist = (a: Params, b: Params) =>
      Math.hypot(
        (a.x as number) - (b.x as number),
        (a.y as number) - (b.y as number),
        (a.z as number) - (b.z as number),
      );
    let withLiar = 0;
    let without = 0;
    for (let s = 0; s < 10; s++) {
      const done = sweep('TPE', bowl, bowlF, s, 20);
      const base: Omit<SuggestContext, 'trialIndex' | 'history'> = {
        strategy: 'TPE',
        space: bowl,
        goal: 'MINIMIZE',
        seed: s,
        maxTrials: 50,
      };
      // two trials asked and still running, then a third one
      for (const liar of [true, false]) {
        const history = [...done];
        const asked: Params[] = [];
        for (let k = 0; k < 3; k++) {
          const p = suggest({ ...base, trialIndex: 20 + k, history, tpe: { constantLiar: liar } })!;
          asked.push(p);
          history.push({ index: 20 + k, params: p, state: 'pending' });
        }
        // the third suggestion differs from both pending points
        expect(asked[2]).not.toEqual(asked[0]);
        expect(asked[2]).not.toEqual(asked[1]);
        const spread = Math.min(dist(asked[0]!, asked[1]!), dist(asked[0]!, asked[2]!), dist(asked[1]!, asked[2]!));
        if (liar) withLiar += spread;
        else without += spread;
      }
    }
    expect(withLiar).toBeGreaterThan(without);
  });

  it('constant liar on a categorical: pending trials on a good choice steer the next ones away', () => {
    const space: SearchSpace = { c: { type: 'choice', values: ['a', 'b', 'c', 'd'] } };
    // a and b equally promising (the two "good" trials), c and d bad
    const history: TrialRecord[] = [
      { index: 0, params: { c: 'a' }, state: 'complete', value: 0 },
      { index: 1, params: { c: 'b' }, state: 'complete', value: 0.1 },
    ];
    for (let i = 2; i < 12; i++)
      history.push({ index: i, params: { c: i % 2 ? 'c' : 'd' }, state: 'complete', value: 5 + i });
    const pending: TrialRecord[] = [12, 13].map((index) => ({ index, params: { c: 'a' }, state: 'pending' }));
    const base = {
      strategy: 'TPE' as const,
      space,
      goal: 'MINIMIZE' as const,
      trialIndex: 14,
      history: [...history, ...pending],
      maxTrials: 50,
    };
    const liar = Array.from({ length: 16 }, (_, seed) => suggest({ ...base, seed })!.c);
    const noLiar = Array.from({ length: 16 }, (_, seed) => suggest({ ...base, seed, tpe: { constantLiar: false } })!.c);
    expect(liar.every((c) => c === 'b')).toBe(true);
    expect(noLiar.filter((c) => c === 'a').length).toBeGreaterThan(2);
    expect(noLiar.every((c) => c === 'a' || c === 'b')).toBe(true);
  });

  it('uses pruned trials as bad evidence', () => {
    const space: SearchSpace = { x: { type: 'uniform', min: 0, max: 1 } };
    const history: TrialRecord[] = [];
    for (let i = 0; i < 30; i++) {
      const x = (i + 0.5) / 30;
      // the region x > 0.5 is always pruned early
      if (x > 0.5) history.push({ index: i, params: { x }, state: 'pruned', intermediate: { 1: 10 + x } });
      else
        history.push({
          index: i,
          params: { x },
          state: 'complete',
          value: (x - 0.25) ** 2,
          intermediate: { 1: 1, 2: 0.5 },
        });
    }
    const picks = Array.from(
      { length: 20 },
      (_, k) =>
        suggest({ strategy: 'TPE', space, goal: 'MINIMIZE', seed: k, trialIndex: 30, history, maxTrials: 100 })!
          .x as number,
    );
    expect(picks.filter((x) => x < 0.5).length).toBeGreaterThanOrEqual(18);
  });
});

describe('log-scaled int estimator', () => {
  it('is a proper distribution over the int grid', () => {
    const opts = resolveTpeOptions({}, 100);
    // 1..200 step 1, kernels in log space
    const lo = Math.log(0.5);
    const hi = Math.log(200.5);
    const est = buildNumericalEstimator([Math.log(3), Math.log(50), Math.log(51)], lo, hi, null, opts, {
      min: 1,
      step: 1,
      loEdge: 0.5,
    });
    let s = 0;
    for (let v = 1; v <= 200; v++) s += Math.exp(estimatorLogPdf(est, Math.log(v)));
    expect(s).toBeCloseTo(1, 6);
    // step 4 from 2: lower edge of the first bin falls back to min/2
    const est4 = buildNumericalEstimator([Math.log(6)], Math.log(1), Math.log(64), null, opts, {
      min: 2,
      step: 4,
      loEdge: 1,
    });
    let s4 = 0;
    for (let v = 2; v <= 62; v += 4) s4 += Math.exp(estimatorLogPdf(est4, Math.log(v)));
    expect(s4).toBeCloseTo(1, 6);
  });
});

describe('multivariate TPE', () => {
  it('scores a point by the joint (product-kernel) mixture, not the product of marginals', async () => {
    const { buildCategoricalEstimator, jointLogPdf, resolveTpeOptions } = await import('./tpe.js');
    const opts = resolveTpeOptions({}, 50);
    // one observation (0, 0) of two 2-way categoricals: kernel [3/4, 1/4] per dim (weight ½), prior [½, ½] (½)
    const a = buildCategoricalEstimator([0], 2, opts);
    const b = buildCategoricalEstimator([0], 2, opts);
    const joint = Math.exp(jointLogPdf([a, b], [Math.log(0.5), Math.log(0.5)], [0, 0]));
    expect(joint).toBeCloseTo(0.5 * 0.75 * 0.75 + 0.5 * 0.25, 12); // 0.40625, the marginals give 0.625² = 0.390625
  });

  it('is reproducible and differs from the independent sampler on the same history', async () => {
    const { suggestTpe } = await import('./tpe.js');
    const space = { x: { type: 'uniform', min: 0, max: 1 }, y: { type: 'uniform', min: 0, max: 1 } } as const;
    const history = Array.from({ length: 12 }, (_, i) => ({
      index: i,
      params: { x: (i * 0.37) % 1, y: (i * 0.61) % 1 },
      state: 'complete' as const,
      value: (((i * 0.37) % 1) - 0.3) ** 2 + (((i * 0.61) % 1) - 0.7) ** 2,
    }));
    const ctx = { space, goal: 'MINIMIZE' as const, seed: 1, trialIndex: 12, history, maxTrials: 50 };
    const mv = suggestTpe({ ...ctx, tpe: { multivariate: true } });
    expect(suggestTpe({ ...ctx, tpe: { multivariate: true } })).toEqual(mv);
    expect(suggestTpe(ctx)).not.toEqual(mv);
  });
});

describe('TPE with trials in flight', () => {
  it('never proposes a finished or running point again while the discrete space has free points', async () => {
    const { suggestTpe } = await import('./tpe.js');
    const space: SearchSpace = { a: { type: 'choice', values: [1, 2, 3] }, b: { type: 'int', min: 0, max: 2 } };
    for (const multivariate of [false, true]) {
      const history: {
        index: number;
        params: Record<string, number>;
        state: 'complete' | 'pending';
        value?: number;
      }[] = [];
      for (let i = 0; i < 9; i++) {
        // 4 in flight: complete the oldest pending one beyond that
        const pending = history.filter((t) => t.state === 'pending');
        if (pending.length >= 4)
          Object.assign(pending[0]!, { state: 'complete', value: pending[0]!.params.a! + pending[0]!.params.b! });
        const params = suggestTpe({
          space,
          goal: 'MINIMIZE',
          seed: 2,
          trialIndex: i,
          history,
          maxTrials: 9,
          tpe: { nStartupTrials: 2, multivariate },
        }) as Record<string, number>;
        expect(history.map((t) => JSON.stringify(t.params))).not.toContain(JSON.stringify(params));
        history.push({ index: i, params, state: 'pending' });
      }
    }
  });
});

describe('tuned joint estimator pieces (Watanabe 2023)', () => {
  it("numpy's percentile and Scott's rule on hand-computed centres", async () => {
    const { percentileSorted, scottBandwidth } = await import('./tpe.js');
    expect(percentileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(percentileSorted([1, 2, 3, 4], 0.75)).toBeCloseTo(3.25, 12);
    expect(percentileSorted([7], 0.75)).toBe(7);
    // centres 1..4: std √(5/3) = 1.291, IQR/1.34 = 1.5/1.34 = 1.119 (the smaller), m = 4
    expect(scottBandwidth([4, 1, 3, 2], 1)).toBeCloseTo(0.898401405, 8); // 1.059 · 1.119 · 4^(−1/5)
    expect(scottBandwidth([1, 2, 3, 4], 6)).toBeCloseTo(1.031992216, 8); // 1.059 · 1.119 · 4^(−1/10)
    // repeated values (IQR 0): the std alone, mean 0.2, Σ(x − 0.2)² = 0.8, 1.059 · √(0.8/4) · 5^(−1/5) = 0.343255
    expect(scottBandwidth([0, 0, 0, 0, 1], 1)).toBeCloseTo(0.343255067, 8);
    expect(scottBandwidth([2, 2], 1)).toBe(0);
    expect(scottBandwidth([0.3], 1)).toBe(0);
  });

  it("Scott bandwidths, the magic clip's exponent and the minimum bandwidth factor", () => {
    const base = { bandwidth: 'scott' as const, considerMagicClip: true };
    // centres 0.2, 0.4 and the prior's 0.5: Scott 1.059 · (0.15/1.34) · 3^(−1/5) = 0.0951608
    const at = (o: Parameters<typeof resolveTpeOptions>[0]) =>
      buildNumericalEstimator([0.2, 0.4], 0, 1, null, resolveTpeOptions({ ...base, ...o }, 50)).sigmas;
    const scott = 0.0951608187;
    // α = 2: clip 1/(1 + 3)² = 0.0625 lets Scott's 0.095 through; the prior kernel keeps the whole range
    at({ magicClipExponent: 2 }).forEach((s, i) => expect(s).toBeCloseTo([scott, scott, 1][i]!, 9));
    // α = 1.5: clip 1/4^1.5 = 0.125 binds
    at({ magicClipExponent: 1.5 }).forEach((s, i) => expect(s).toBeCloseTo([0.125, 0.125, 1][i]!, 12));
    // Δ = 0.2 binds over both
    at({ magicClipExponent: 2, minBandwidthFactor: 0.2 }).forEach((s, i) =>
      expect(s).toBeCloseTo([0.2, 0.2, 1][i]!, 12),
    );
    // Optuna's neighbour rule (α = 1) for comparison: 0.2 → max(0.2, 0.2) clipped to ≥ 1/4; 0.4 → 0.1 → 1/4
    const optuna = buildNumericalEstimator([0.2, 0.4], 0, 1, null, resolveTpeOptions({}, 50)).sigmas;
    optuna.forEach((s, i) => expect(s).toBeCloseTo([0.25, 0.25, 1][i]!, 12));
  });

  it('improvement weights: the best bad value minus each good value, the prior at their mean', async () => {
    const { improvementWeights } = await import('./tpe.js');
    const t = (index: number, state: TrialRecord['state'], value?: number): TrialRecord => ({
      index,
      params: {},
      state,
      value,
    });
    expect(
      improvementWeights(
        [t(0, 'complete', 1), t(2, 'complete', 3)],
        [t(1, 'complete', 5), t(3, 'complete', 4), t(4, 'pending')],
        'MINIMIZE',
      ),
    ).toEqual([3, 1]);
    expect(
      improvementWeights(
        [t(0, 'complete', 9), t(1, 'complete', 7)],
        [t(2, 'complete', 5), t(3, 'complete', 6)],
        'MAXIMIZE',
      ),
    ).toEqual([3, 1]);
    // a tie with the threshold still gets a (tiny) weight
    expect(improvementWeights([t(0, 'complete', 4)], [t(1, 'complete', 4)], 'MINIMIZE')).toEqual([1e-12]);
    // a pruned good trial or no finished bad one: fall back to the default weights
    expect(improvementWeights([t(0, 'pruned', 1)], [t(1, 'complete', 5)], 'MINIMIZE')).toBeUndefined();
    expect(improvementWeights([t(0, 'complete', 1)], [t(1, 'pending')], 'MINIMIZE')).toBeUndefined();
    // mixture: weights 3 and 1, the prior 1 · mean(3, 1) = 2 → 3/6, 1/6, 2/6
    const est = buildNumericalEstimator([0.2, 0.4], 0, 1, null, resolveTpeOptions({}, 50), undefined, {
      dims: 1,
      obsWeights: [3, 1],
    });
    est.weights.forEach((w, i) => expect(w).toBeCloseTo([0.5, 1 / 6, 1 / 3][i]!, 12));
    const cat = buildCategoricalEstimator([0, 1], 3, resolveTpeOptions({}, 50), { dims: 1, obsWeights: [3, 1] });
    cat.weights.forEach((w, i) => expect(w).toBeCloseTo([0.5, 1 / 6, 1 / 3][i]!, 12));
  });

  it('sharp liar: a capped kernel only for the marked (running) observations', () => {
    const opts = resolveTpeOptions({}, 50);
    const est = buildNumericalEstimator([0.1, 0.5, 0.9], 0, 1, null, opts, undefined, {
      dims: 2,
      cap: { sigma: 0.05, marked: [false, true, false] },
    });
    const plain = buildNumericalEstimator([0.1, 0.5, 0.9], 0, 1, null, opts);
    expect(est.sigmas).toEqual([plain.sigmas[0], 0.05, plain.sigmas[2], 1]);
    expect(plain.sigmas[1]).toBeGreaterThan(0.05);
  });

  it(
    'sharp liar changes nothing without running trials, ' + 'and pushes parallel suggestions off running ones',
    async () => {
      const { suggestTpe } = await import('./tpe.js');
      const tuned = { ...TUNED_JOINT_ESTIMATOR, multivariate: true, sharpLiar: false };
      const sharpened = { ...tuned, sharpLiar: true };
      // 20 random trials: g(x) is wide (Scott over a uniform spread), l(x) narrower around the 2 good ones
      const done = sweep('RANDOM', bowl, bowlF, 4, 20);
      const ctx = { space: bowl, goal: 'MINIMIZE' as const, seed: 4, trialIndex: 20, history: done, maxTrials: 50 };
      expect(suggestTpe({ ...ctx, tpe: sharpened })).toEqual(suggestTpe({ ...ctx, tpe: tuned }));
      // three trials running at the best point so far: the sharp liar steers the next suggestion well away
      const bestDone = done.reduce((a, b) => (a.value! < b.value! ? a : b));
      const running: TrialRecord[] = [20, 21, 22].map((index) => ({
        index,
        params: bestDone.params,
        state: 'pending',
      }));
      const dist = (p: Params) =>
        Math.hypot(...(['x', 'y', 'z'] as const).map((k) => (p[k] as number) - (bestDone.params[k] as number)));
      let sharp = 0;
      let plain = 0;
      for (let seed = 0; seed < 20; seed++) {
        const c = { ...ctx, seed, trialIndex: 23, history: [...done, ...running] };
        sharp += dist(suggestTpe({ ...c, tpe: sharpened }));
        plain += dist(suggestTpe({ ...c, tpe: tuned }));
      }
      expect(sharp).toBeGreaterThan(2 * plain);
    },
  );
});

describe('bounded g(x): aboveKernels and the window it needs', () => {
  const space: SearchSpace = {
    x: { type: 'uniform', min: -5, max: 10 },
    n: { type: 'int', min: 8, max: 64, step: 8 },
    c: { type: 'choice', values: ['a', 'b', 'c'] },
  };
  const f = (p: Params) => ((p.x as number) - 2) ** 2 + ((p.n as number) - 24) / 8 + (p.c === 'b' ? 0 : 1);
  /** A long history: every state, pruned trials with and without a value, a few running ones among the newest. */
  function history(n: number, seed: number): TrialRecord[] {
    const rng = mulberry32(seed);
    return Array.from({ length: n }, (_, index): TrialRecord => {
      const params: Params = { x: -5 + 15 * rng(), n: 8 + 8 * Math.floor(8 * rng()), c: ['a', 'b', 'c'][index % 3]! };
      const u = rng();
      if (index >= n - 3) return { index, params, state: 'pending' };
      if (u < 0.05) return { index, params, state: 'failed' };
      if (u < 0.1) return { index, params, state: 'pruned' };
      if (u < 0.6) return { index, params, state: 'pruned', value: f(params) + 5 * rng() };
      return { index, params, state: 'complete', value: f(params) };
    });
  }
  const context = (h: TrialRecord[], tpe: Partial<TpeOptions>, goal: 'MINIMIZE' | 'MAXIMIZE' = 'MINIMIZE') => ({
    space,
    goal,
    seed: 9,
    trialIndex: h.length,
    history: h,
    maxTrials: 2000,
    tpe: { ...TUNED_JOINT_ESTIMATOR, multivariate: true, ...tpe },
  });

  it('newestOf keeps the last trials of a list sorted by index, all of them under the cap', () => {
    expect(newestOf([1, 2, 3, 4], 2)).toEqual([3, 4]);
    expect(newestOf([1, 2, 3], 3)).toEqual([1, 2, 3]);
    expect(newestOf([1, 2], Infinity)).toEqual([1, 2]);
  });

  it('a cap no smaller than the "above" group changes nothing; a smaller one changes the suggestion', () => {
    const h = history(120, 1);
    const uncapped = suggest({ strategy: 'TPE', ...context(h, {}) });
    // 120 trials: the good group is 11 of the observed ones, so "above" holds fewer than 120
    expect(suggest({ strategy: 'TPE', ...context(h, { aboveKernels: 120 }) })).toEqual(uncapped);
    expect(suggest({ strategy: 'TPE', ...context(h, { aboveKernels: 25 }) })).not.toEqual(uncapped);
  });

  it('with a cap, g(x) is fitted to the newest "above" trials only: older ones make no difference', () => {
    const h = history(600, 2);
    const capped = context(h, { aboveKernels: 40 });
    const split = splitTrials(
      h.filter((t) => t.state !== 'failed' && (t.state !== 'complete' || Number.isFinite(t.value))),
      'MINIMIZE',
      defaultGamma(h.filter((t) => t.state === 'complete' || t.state === 'pruned').length),
      true,
    );
    const kept = new Set([...split.below, ...split.above.slice(-40)].map((t) => t.index));
    const suggested = suggest({ strategy: 'TPE', ...capped })!;
    // the dropped trials moved next to the suggestion: without the cap g(x) would peak there and push it away
    const near = { ...suggested, x: (suggested.x as number) + 1e-9 };
    const moved = h.map((t) => (kept.has(t.index) || t.state === 'failed' ? t : { ...t, params: near }));
    expect(suggest({ strategy: 'TPE', ...context(moved, { aboveKernels: 40 }) })).toEqual(suggested);
    expect(suggest({ strategy: 'TPE', ...context(moved, {}) })).not.toEqual(
      suggest({ strategy: 'TPE', ...context(h, {}) }),
    );
  });

  it('the window tpeWindow describes is all a suggestion reads: the same draws as on the whole history', () => {
    for (const goal of ['MINIMIZE', 'MAXIMIZE'] as const) {
      for (const [n, seed] of [
        [8, 3], // startup: random draws
        [60, 4], // gamma still growing
        [700, 5], // window far smaller than the history
      ] as const) {
        const h = history(n, seed);
        const input = context(h, { aboveKernels: 30 }, goal);
        const window = tpeWindow(input.tpe, input.maxTrials)!;
        const part = tpeWindowOf(h, input.trialIndex, goal, window);
        if (n === 700) expect(part.history.length).toBeLessThan(30 + 25 + 26 + 25 + 1);
        const whole = [...tpeDraws(input)];
        const fromWindow = [...tpeDraws({ ...input, history: part.history, observed: part.observed })];
        expect(fromWindow).toEqual(whole);
        expect(whole).toHaveLength(73);
        expect(suggest({ strategy: 'TPE', ...input })).toEqual(whole[0]); // a continuous x: nothing is taken
      }
    }
  });

  it('no window without a cap (every trial matters) or with a custom gamma', () => {
    expect(tpeWindow({}, 100)).toBeNull();
    expect(tpeWindow({ aboveKernels: 50, gamma: (n) => n }, 100)).toBeNull();
    expect(tpeWindow({ aboveKernels: 50 }, 100)).toEqual({
      bestComplete: 26,
      bestPruned: 25,
      newest: 75,
      observedCap: 241,
    });
    // the count of observed trials matters up to where gamma stops growing, or past a long startup
    expect(tpeWindow({ aboveKernels: 50, nStartupTrials: 300 }, 1000)!.observedCap).toBe(300);
    for (let n = 241; n < 400; n++) expect(defaultGamma(n)).toBe(25);
    expect(defaultGamma(240)).toBe(24);
  });
});
