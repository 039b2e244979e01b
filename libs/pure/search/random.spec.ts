import { describe, expect, it } from 'vitest';

import { type SearchSpace, suggest, type SuggestContext, type TrialRecord } from './index.js';

const space: SearchSpace = {
  lr: { type: 'loguniform', min: 1e-5, max: 1 },
  dropout: { type: 'uniform', min: 0.1, max: 0.6 },
  units: { type: 'int', min: 10, max: 100, step: 15 }, // 10, 25, ..., 100
  layers: { type: 'int', min: 1, max: 1000, log: true },
  width: { type: 'int', min: 4, max: 64, step: 4, log: true },
  act: { type: 'choice', values: ['relu', 'tanh', 'gelu'] },
};

function ctx(over: Partial<SuggestContext> = {}): SuggestContext {
  return {
    strategy: 'RANDOM',
    space,
    goal: 'MINIMIZE',
    seed: 42,
    trialIndex: 0,
    history: [],
    maxTrials: 1000,
    ...over,
  };
}

describe('RANDOM', () => {
  const N = 2000;
  const samples = Array.from({ length: N }, (_, i) => suggest(ctx({ trialIndex: i }))!);

  it('is a pure function of (seed, trialIndex): restart-safe', () => {
    for (let i = 0; i < 20; i++) {
      const history: TrialRecord[] = samples
        .slice(0, i)
        .map((params, index) => ({ index, params, state: 'complete', value: index }));
      expect(suggest(ctx({ trialIndex: i, history }))).toEqual(samples[i]);
    }
    expect(suggest(ctx({ trialIndex: 3, seed: 43 }))).not.toEqual(samples[3]);
    expect(new Set(samples.map((p) => p.dropout)).size).toBe(N);
  });

  it('HYPERBAND samples like RANDOM', () => {
    expect(suggest(ctx({ strategy: 'HYPERBAND', trialIndex: 7 }))).toEqual(samples[7]);
  });

  it('stays in bounds and on the int grids', () => {
    for (const p of samples) {
      expect(Object.keys(p)).toEqual(Object.keys(space));
      expect(p.lr).toBeGreaterThanOrEqual(1e-5);
      expect(p.lr).toBeLessThanOrEqual(1);
      expect(p.dropout).toBeGreaterThanOrEqual(0.1);
      expect(p.dropout).toBeLessThanOrEqual(0.6);
      expect([10, 25, 40, 55, 70, 85, 100]).toContain(p.units);
      expect(Number.isInteger(p.layers)).toBe(true);
      expect(p.layers).toBeGreaterThanOrEqual(1);
      expect(p.layers).toBeLessThanOrEqual(1000);
      expect(((p.width as number) - 4) % 4).toBe(0);
      expect(p.width).toBeGreaterThanOrEqual(4);
      expect(p.width).toBeLessThanOrEqual(64);
      expect(['relu', 'tanh', 'gelu']).toContain(p.act);
    }
  });

  it('covers every grid point and choice roughly uniformly', () => {
    const count = (key: string) => {
      const m = new Map<unknown, number>();
      for (const p of samples) m.set(p[key], (m.get(p[key]) ?? 0) + 1);
      return m;
    };
    const units = count('units');
    expect(units.size).toBe(7);
    for (const c of units.values()) expect(c).toBeGreaterThan((N / 7) * 0.75);
    const act = count('act');
    expect(act.size).toBe(3);
    for (const c of act.values()) expect(c).toBeGreaterThan((N / 3) * 0.85);
  });

  it('samples loguniform and log ints uniformly in log space', () => {
    const decade = (x: number) => Math.floor(Math.log10(x));
    const lrDecades = new Map<number, number>();
    for (const p of samples) lrDecades.set(decade(p.lr as number), (lrDecades.get(decade(p.lr as number)) ?? 0) + 1);
    for (const d of [-5, -4, -3, -2, -1]) expect(lrDecades.get(d)!).toBeGreaterThan((N / 5) * 0.8);
    // log int 1..1000: about a third of the draws below 10, a third in 10..99
    const small = samples.filter((p) => (p.layers as number) < 10).length;
    const mid = samples.filter((p) => (p.layers as number) >= 10 && (p.layers as number) < 100).length;
    expect(small / N).toBeGreaterThan(0.25);
    expect(small / N).toBeLessThan(0.42);
    expect(mid / N).toBeGreaterThan(0.25);
    expect(mid / N).toBeLessThan(0.42);
    // a linear int would put < 1% below 10
    const widths = new Set(samples.map((p) => p.width));
    expect(widths.size).toBe(16);
    expect(samples.filter((p) => p.width === 4 || p.width === 8).length).toBeGreaterThan(
      samples.filter((p) => p.width === 60 || p.width === 64).length,
    );
  });
});
