import { describe, expect, it } from 'vitest';

import { mulberry32 } from '#libs/pure/random';

import {
  categoricalGridPdf,
  gridCounts,
  numericalGridPdf,
  pearsonDivergence,
  pedAnovaImportance,
} from './importance.js';
import type { SearchSpace } from './space.js';
import type { TrialRecord } from './trials.js';

describe('PED-ANOVA pieces', () => {
  it('counts values on the grid: int points, nearest of 50 points, log ints on log2 points', () => {
    expect(gridCounts({ type: 'int', min: 1, max: 3 }, [1, 1, 3])).toEqual([2, 0, 1]);
    const u = gridCounts({ type: 'uniform', min: 0, max: 1 }, [0.49, 24.4 / 49, 24.6 / 49, 1]);
    expect(u).toHaveLength(50);
    expect([u[24], u[25], u[49]]).toEqual([2, 1, 1]); // 0.49 = 24.01/49 → 24

    // int 1..1000 log: ceil(log2(1000)) + 1 = 11 points over [0, log 1000]
    const li = gridCounts({ type: 'int', min: 1, max: 1000, log: true }, [1, 1000]);
    expect(li).toHaveLength(11);
    expect([li[0], li[10]]).toEqual([1, 1]);
    expect(gridCounts({ type: 'choice', values: ['a', 'b'] }, ['b', 'b', 'a'])).toEqual([1, 2]);
  });

  it('categorical estimator by hand: counts [2,0,1] → [11/24, 5/24, 1/3]', () => {
    // kernels: cat0 (weight 2/4) [2/3,1/6,1/6], cat2 (1/4) [1/6,1/6,2/3], prior (1/4) [1/3,1/3,1/3]
    const p = categoricalGridPdf([2, 0, 1]);
    expect(p[0]).toBeCloseTo(11 / 24, 12);
    expect(p[1]).toBeCloseTo(5 / 24, 12);
    expect(p[2]).toBeCloseTo(1 / 3, 12);
  });

  it('numerical estimator by hand: one value at the centre of a 3-point grid', () => {
    // kernel at 1 with the minimum bandwidth 0.5/1.64 (Scott gives 0) and the prior N(1, 3²), weights ½ ½,
    // each a discrete normal truncated to [−0.5, 2.5] (values from scipy.stats.norm)
    const p = numericalGridPdf([0, 1, 0]);
    expect(p[0]).toBeCloseTo(0.18883229, 6);
    expect(p[1]).toBeCloseTo(0.62233543, 6);
    expect(p[2]).toBeCloseTo(0.18883229, 6);
  });

  it('gives zero divergence when the top trials look like all trials', () => {
    const spec = { type: 'uniform', min: 0, max: 1 } as const;
    expect(pearsonDivergence(spec, [0.1, 0.5, 0.9], [0.1, 0.5, 0.9])).toBeCloseTo(0, 12);
    expect(pearsonDivergence(spec, [0.1, 0.12], [0.1, 0.5, 0.9, 0.12])).toBeGreaterThan(0.1);
  });
});

describe('pedAnovaImportance', () => {
  const space: SearchSpace = {
    x1: { type: 'uniform', min: -1, max: 1 },
    x2: { type: 'uniform', min: -1, max: 1 },
    lr: { type: 'loguniform', min: 1e-5, max: 1e-1 },
    units: { type: 'int', min: 16, max: 512, step: 16 },
    opt: { type: 'choice', values: ['sgd', 'adam', 'rmsprop'] },
  };
  function trials(n: number, f: (p: Record<string, number | string>) => number): TrialRecord[] {
    const r = mulberry32(11);
    return Array.from({ length: n }, (_, i) => {
      const p = {
        x1: -1 + 2 * r(),
        x2: -1 + 2 * r(),
        lr: Math.exp(Math.log(1e-5) + r() * Math.log(1e4)),
        units: 16 + 16 * Math.floor(r() * 32),
        opt: ['sgd', 'adam', 'rmsprop'][Math.floor(r() * 3)]!,
      };
      return { index: i, params: p, state: 'complete', value: f(p) };
    });
  }

  it('is null below 10 finished trials (running, failed and pruned ones do not count)', () => {
    const t = trials(9, (p) => p.x1 as number);
    expect(pedAnovaImportance(space, t, 'MINIMIZE')).toBeNull();
    const withOthers: TrialRecord[] = [
      ...t,
      { index: 9, params: {}, state: 'pending' },
      { index: 10, params: {}, state: 'failed' },
    ];
    expect(pedAnovaImportance(space, withOthers, 'MINIMIZE')).toBeNull();
    expect(
      pedAnovaImportance(
        space,
        trials(10, (p) => p.x1 as number),
        'MINIMIZE',
      ),
    ).not.toBeNull();
  });

  it('ranks the only influential parameter first and sums to 1, for each type of parameter', () => {
    const cases: [string, (p: Record<string, number | string>) => number][] = [
      ['x2', (p) => ((p.x2 as number) - 0.3) ** 2],
      ['lr', (p) => (Math.log10(p.lr as number) + 3) ** 2],
      ['units', (p) => Math.abs((p.units as number) - 128)],
      ['opt', (p) => (p.opt === 'adam' ? 0 : 1)],
    ];
    for (const [name, f] of cases) {
      const imp = pedAnovaImportance(space, trials(200, f), 'MINIMIZE')!;
      expect(Object.keys(imp)[0]).toBe(name);
      expect(imp[name]).toBeGreaterThan(0.5);
      expect(Object.values(imp).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it('flips with the goal: maximising −f is minimising f', () => {
    const t = trials(60, (p) => ((p.x1 as number) - 0.2) ** 2);
    const neg = t.map((x) => ({ ...x, value: -x.value! }));
    expect(pedAnovaImportance(space, neg, 'MAXIMIZE')).toEqual(pedAnovaImportance(space, t, 'MINIMIZE'));
  });
});
