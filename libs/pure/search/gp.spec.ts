import { describe, expect, it } from 'vitest';

import {
  logExpectedImprovement,
  logH,
  logPosteriorAndGrad,
  matern52,
  matern52GradR2,
  squaredDistance,
  suggestGp,
} from './gp.js';
import { choleskyWithJitter, inverseFromCholesky, solveLower, solveUpperT } from './linalg.js';
import type { SearchSpace } from './space.js';
import type { TrialRecord } from './trials.js';

describe('linear algebra', () => {
  it('Cholesky of [[4,2],[2,3]] is [[2,0],[1,√2]]', () => {
    const { L, jitter } = choleskyWithJitter(Float64Array.from([4, 2, 2, 3]), 2);
    expect(jitter).toBe(0);
    expect(Array.from(L)).toEqual([2, 0, 1, expect.closeTo(Math.SQRT2, 12)]);
  });
  it('adds jitter to a singular matrix and still factors it', () => {
    const { L, jitter } = choleskyWithJitter(Float64Array.from([1, 1, 1, 1]), 2);
    expect(jitter).toBeGreaterThan(0);
    expect(jitter).toBeLessThan(1e-2);
    expect(L[0]! * L[0]!).toBeCloseTo(1 + jitter, 12);
  });
  it('refuses a negative definite matrix', () => {
    expect(() => choleskyWithJitter(Float64Array.from([-1, 0, 0, -1]), 2)).toThrow(/not positive definite/);
  });
  it('solves and inverts: [[4,2],[2,3]]⁻¹ = [[3,−2],[−2,4]]/8', () => {
    const { L } = choleskyWithJitter(Float64Array.from([4, 2, 2, 3]), 2);
    expect(Array.from(inverseFromCholesky(L, 2)).map((v) => v * 8)).toEqual(
      [3, -2, -2, 4].map((v) => expect.closeTo(v, 12)),
    );
    const x = solveUpperT(L, 2, solveLower(L, 2, [8, 7])); // 4a + 2b = 8, 2a + 3b = 7 → a = 1.25, b = 1.5
    expect(Array.from(x)).toEqual([expect.closeTo(1.25, 12), expect.closeTo(1.5, 12)]);
  });
});

describe('Matérn 5/2 kernel', () => {
  it('is 1 at r = 0 and (1 + √5 + 5/3)·e^−√5 = 0.5239941 at r = 1', () => {
    expect(matern52(0)).toBe(1);
    expect(matern52(1)).toBeCloseTo(0.5239941088318203, 12);
  });
  it('has the derivative in r² that finite differences give', () => {
    for (const r2 of [0.01, 0.3, 2, 7]) {
      const fd = (matern52(r2 + 1e-6) - matern52(r2 - 1e-6)) / 2e-6;
      expect(matern52GradR2(r2)).toBeCloseTo(fd, 6);
    }
    expect(matern52GradR2(0)).toBeCloseTo(-5 / 6, 12);
  });
  it('measures categorical dims by Hamming distance with their own length scale', () => {
    // dims: numeric (λ = 4), categorical (λ = 0.5)
    expect(squaredDistance([0.1, 2], [0.6, 2], [4, 0.5], [false, true])).toBeCloseTo(4 * 0.25, 12);
    expect(squaredDistance([0.1, 2], [0.1, 0], [4, 0.5], [false, true])).toBeCloseTo(0.5, 12);
  });
});

describe('log expected improvement', () => {
  it('matches the closed form: h(0) = φ(0), h(1) = φ(1) + Φ(1), h(−3) = φ(3) − 3Φ(−3)', () => {
    expect(logH(0)).toBeCloseTo(Math.log(1 / Math.sqrt(2 * Math.PI)), 7);
    expect(logH(1)).toBeCloseTo(0.08002621884930704, 6);
    expect(logH(-3)).toBeCloseTo(-7.869686059603018, 4);
    // EI of N(0, 2²) below best 2: log(2·h(1))
    expect(logExpectedImprovement(0, 2, 2)).toBeCloseTo(Math.log(2) + 0.08002621884930704, 6);
  });
  it('stays finite, increasing and continuous far in the tail (no log(0))', () => {
    let prev = -Infinity;
    for (let z = -40; z <= 3; z += 0.25) {
      const v = logH(z);
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(prev);
      prev = v;
    }
    expect(Math.abs(logH(-8 - 1e-9) - logH(-8 + 1e-9))).toBeLessThan(1e-3);
  });
});

describe('GP marginal likelihood', () => {
  it('has the analytic gradient that finite differences give', () => {
    const X = [
      [0.1, 0],
      [0.4, 1],
      [0.8, 1],
      [0.55, 0],
      [0.3, 2],
    ].map((r) => Float64Array.from(r));
    const y = [0.5, -1, 1.2, 0.1, -0.3];
    const isCat = [false, true];
    const raw = Float64Array.from([0.3, -0.2, 0.1, Math.log(0.05)]);
    const { grad } = logPosteriorAndGrad(X, y, isCat, raw);
    for (let i = 0; i < raw.length; i++) {
      const up = Float64Array.from(raw);
      const dn = Float64Array.from(raw);
      up[i]! += 1e-5;
      dn[i]! -= 1e-5;
      const fd = (logPosteriorAndGrad(X, y, isCat, up).value - logPosteriorAndGrad(X, y, isCat, dn).value) / 2e-5;
      expect(grad[i]).toBeCloseTo(fd, 4);
    }
  });
});

describe('suggestGp', () => {
  const space: SearchSpace = {
    x: { type: 'uniform', min: -2, max: 2 },
    n: { type: 'int', min: 1, max: 8 },
    lr: { type: 'loguniform', min: 1e-4, max: 1e-1 },
    opt: { type: 'choice', values: ['sgd', 'adam', 'rmsprop'] },
  };
  const f = (p: Record<string, unknown>) =>
    ((p.x as number) - 0.5) ** 2 +
    0.1 * ((p.n as number) - 3) ** 2 +
    (Math.log10(p.lr as number) + 2) ** 2 +
    (p.opt === 'adam' ? 0 : 1);
  function sweep(seed: number, n: number): TrialRecord[] {
    const history: TrialRecord[] = [];
    for (let i = 0; i < n; i++) {
      const params = suggestGp({ space, goal: 'MINIMIZE', seed, trialIndex: i, history, maxTrials: n });
      history.push({ index: i, params, state: 'complete', value: f(params) });
    }
    return history;
  }
  it('is a pure function of (seed, history): the same sweep twice is identical, another seed differs', () => {
    const a = sweep(3, 16);
    expect(sweep(3, 16)).toEqual(a);
    expect(sweep(4, 16)).not.toEqual(a);
  });
  it('proposes legal values of every type and finds a better point than its random start', () => {
    const h = sweep(5, 24);
    for (const t of h) {
      expect(t.params.x).toBeGreaterThanOrEqual(-2);
      expect(t.params.x).toBeLessThanOrEqual(2);
      expect(Number.isInteger(t.params.n)).toBe(true);
      expect(['sgd', 'adam', 'rmsprop']).toContain(t.params.opt);
      expect(t.params.lr).toBeGreaterThanOrEqual(1e-4);
    }
    const bestStartup = Math.min(...h.slice(0, 4).map((t) => t.value!));
    const bestGp = Math.min(...h.slice(4).map((t) => t.value!));
    expect(bestGp).toBeLessThan(bestStartup);
  });
  it('accounts for running trials: never proposes a running point again, and moves away from it', () => {
    const h = sweep(6, 14);
    const first = suggestGp({ space, goal: 'MINIMIZE', seed: 6, trialIndex: 14, history: h, maxTrials: 30 });
    const withRunning: TrialRecord[] = [...h, { index: 14, params: first, state: 'pending' }];
    const second = suggestGp({ space, goal: 'MINIMIZE', seed: 6, trialIndex: 15, history: withRunning, maxTrials: 30 });
    expect(second).not.toEqual(first);
  });
  it('maximises when asked: the same values negated give the same suggestion', () => {
    const h = sweep(7, 12);
    const neg = h.map((t) => ({ ...t, value: -t.value! }));
    const a = suggestGp({ space, goal: 'MINIMIZE', seed: 7, trialIndex: 12, history: h, maxTrials: 30 });
    const b = suggestGp({ space, goal: 'MAXIMIZE', seed: 7, trialIndex: 12, history: neg, maxTrials: 30 });
    expect(b).toEqual(a);
  });
});
