import { describe, expect, it } from 'vitest';

import { gridSize, parseSearchSpace, type SearchSpace, SearchSpaceError, suggest } from './index.js';

function parseError(raw: unknown, strategy: 'GRID' | 'RANDOM' | 'TPE' | 'HYPERBAND' = 'RANDOM'): string {
  try {
    parseSearchSpace(raw, strategy);
  } catch (e) {
    expect(e).toBeInstanceOf(SearchSpaceError);
    return (e as Error).message;
  }
  throw new Error('expected a SearchSpaceError');
}

describe('parseSearchSpace', () => {
  it('accepts every parameter type and keeps the order', () => {
    const raw = {
      lr: { type: 'loguniform', min: 1e-4, max: 1e-1 },
      dropout: { type: 'uniform', min: 0, max: 0.5 },
      units: { type: 'int', min: 16, max: 256, step: 16 },
      layers: { type: 'int', min: 1, max: 64, log: true },
      act: { type: 'choice', values: ['relu', 'tanh', 1, true] },
    };
    const space = parseSearchSpace(raw, 'TPE');
    expect(Object.keys(space)).toEqual(['lr', 'dropout', 'units', 'layers', 'act']);
    expect(space).toEqual(raw);
    expect(space.act).not.toBe(raw.act);
  });

  it('names the parameter and the fault', () => {
    expect(parseError({ lr: { type: 'uniform', min: 0.1, max: 0.01 } })).toBe(
      'searchSpace.lr: min (0.1) must be less than max (0.01)',
    );
    expect(parseError({ lr: { type: 'uniform', min: 0.1, max: 0.1 } })).toMatch(
      /^searchSpace\.lr: min \(0\.1\) must be less than max/,
    );
    expect(parseError({ lr: { type: 'gaussian', min: 0, max: 1 } })).toMatch(
      /^searchSpace\.lr: unknown type "gaussian"/,
    );
    expect(parseError({ lr: { min: 0, max: 1 } })).toMatch(/^searchSpace\.lr: unknown type undefined/);
    expect(parseError({ lr: { type: 'uniform', min: 0, max: Infinity } })).toMatch(
      /^searchSpace\.lr: max must be a finite number/,
    );
    expect(parseError({ lr: { type: 'uniform', min: NaN, max: 1 } })).toMatch(
      /^searchSpace\.lr: min must be a finite number/,
    );
    expect(parseError({ lr: { type: 'uniform', min: '0', max: 1 } })).toMatch(
      /^searchSpace\.lr: min must be a finite number \(got "0"\)/,
    );
    expect(parseError({ lr: { type: 'loguniform', min: 0, max: 1 } })).toMatch(
      /^searchSpace\.lr: min \(0\) must be greater than 0/,
    );
    expect(parseError({ lr: { type: 'loguniform', min: -1, max: 1 } })).toMatch(/^searchSpace\.lr: min \(-1\)/);
    expect(parseError({ n: { type: 'int', min: 0, max: 8, log: true } })).toMatch(
      /^searchSpace\.n: min \(0\) must be greater than 0 for a log-scaled int/,
    );
    expect(parseError({ n: { type: 'int', min: 0.5, max: 8 } })).toMatch(
      /^searchSpace\.n: min \(0\.5\) must be an integer/,
    );
    expect(parseError({ n: { type: 'int', min: 0, max: 8.5 } })).toMatch(
      /^searchSpace\.n: max \(8\.5\) must be an integer/,
    );
    expect(parseError({ n: { type: 'int', min: 0, max: 8, step: 1.5 } })).toMatch(
      /^searchSpace\.n: step \(1\.5\) must be an integer/,
    );
    expect(parseError({ n: { type: 'int', min: 0, max: 8, step: 0 } })).toMatch(
      /^searchSpace\.n: step \(0\) must be greater than 0/,
    );
    expect(parseError({ n: { type: 'int', min: 0, max: 8, step: -2 } })).toMatch(
      /^searchSpace\.n: step \(-2\) must be greater than 0/,
    );
    expect(parseError({ n: { type: 'int', min: 0, max: 8, log: 'yes' } })).toMatch(
      /^searchSpace\.n: log must be a boolean/,
    );
    expect(parseError({ act: { type: 'choice', values: [] } })).toBe('searchSpace.act: values must not be empty');
    expect(parseError({ act: { type: 'choice', values: 'relu' } })).toMatch(
      /^searchSpace\.act: values must be an array/,
    );
    expect(parseError({ act: { type: 'choice' } })).toMatch(/^searchSpace\.act: values must be an array/);
    expect(parseError({ act: { type: 'choice', values: ['a', { b: 1 }] } })).toMatch(
      /^searchSpace\.act: values\[1\] must be a string/,
    );
    expect(parseError({ act: { type: 'choice', values: ['a', 'a'] } })).toMatch(
      /^searchSpace\.act: values\[1\] duplicates "a"/,
    );
    expect(parseError({ act: { type: 'choice', values: ['a'], min: 0 } })).toMatch(
      /^searchSpace\.act: unknown key "min"/,
    );
    expect(parseError({ lr: { type: 'uniform', min: 0, max: 1, step: 0.1 } })).toMatch(
      /^searchSpace\.lr: unknown key "step"/,
    );
    expect(parseError({ lr: { type: 'uniform', min: 0, max: 1, log: true } })).toMatch(
      /^searchSpace\.lr: unknown key "log"/,
    );
    expect(parseError({ lr: 0.1 })).toMatch(/^searchSpace\.lr: must be an object/);
  });

  it('refuses a space that is not an object or is empty', () => {
    expect(parseError(null)).toMatch(/^searchSpace: must be an object/);
    expect(parseError([1, 2])).toMatch(/^searchSpace: must be an object/);
    expect(parseError('lr')).toMatch(/^searchSpace: must be an object/);
    expect(parseError({})).toMatch(/^searchSpace: must define at least one parameter/);
    expect(parseError({ '': { type: 'uniform', min: 0, max: 1 } })).toMatch(
      /^searchSpace: parameter names must not be empty/,
    );
    expect(parseError(JSON.parse('{"__proto__": {"type": "uniform", "min": 0, "max": 1}}'))).toMatch(
      /^searchSpace\.__proto__: reserved name/,
    );
  });

  it('refuses what GRID cannot enumerate', () => {
    expect(parseError({ lr: { type: 'uniform', min: 0, max: 1 } }, 'GRID')).toMatch(
      /^searchSpace\.lr: GRID cannot enumerate a continuous uniform/,
    );
    expect(parseError({ lr: { type: 'loguniform', min: 1e-3, max: 1 } }, 'GRID')).toMatch(
      /^searchSpace\.lr: GRID cannot enumerate a continuous loguniform/,
    );
    expect(parseError({ n: { type: 'int', min: 1, max: 4 } }, 'GRID')).toBe(
      'searchSpace.n: GRID needs an explicit step for an int parameter',
    );
    expect(() => parseSearchSpace({ n: { type: 'int', min: 1, max: 4, step: 1 } }, 'GRID')).not.toThrow();
    expect(() => parseSearchSpace({ lr: { type: 'uniform', min: 0, max: 1 } }, 'RANDOM')).not.toThrow();
  });
});

describe('GRID', () => {
  const space: SearchSpace = parseSearchSpace(
    {
      opt: { type: 'choice', values: ['sgd', 'adam'] },
      units: { type: 'int', min: 8, max: 30, step: 8 }, // 8, 16, 24 (30 is off the grid)
      bn: { type: 'choice', values: [false, true] },
    },
    'GRID',
  );

  it('has the size of the product', () => {
    expect(gridSize(space)).toBe(12);
    expect(gridSize({ a: { type: 'int', min: 1, max: 10 } })).toBe(10);
    expect(gridSize({ a: { type: 'uniform', min: 0, max: 1 } })).toBe(Infinity);
  });

  it('enumerates every combination in a stable order, then returns null', () => {
    const ctx = { strategy: 'GRID' as const, space, goal: 'MINIMIZE' as const, seed: 1, history: [], maxTrials: 100 };
    const all = Array.from({ length: 12 }, (_, i) => suggest({ ...ctx, trialIndex: i }));
    expect(all.slice(0, 4)).toEqual([
      { opt: 'sgd', units: 8, bn: false },
      { opt: 'sgd', units: 8, bn: true },
      { opt: 'sgd', units: 16, bn: false },
      { opt: 'sgd', units: 16, bn: true },
    ]);
    expect(all[6]).toEqual({ opt: 'adam', units: 8, bn: false });
    expect(all[11]).toEqual({ opt: 'adam', units: 24, bn: true });
    expect(new Set(all.map((p) => JSON.stringify(p))).size).toBe(12);
    expect(Object.keys(all[3]!)).toEqual(['opt', 'units', 'bn']);
    expect(suggest({ ...ctx, trialIndex: 12 })).toBeNull();
    expect(suggest({ ...ctx, trialIndex: 1000 })).toBeNull();
    // independent of seed and history
    expect(suggest({ ...ctx, seed: 99, trialIndex: 5 })).toEqual(all[5]);
  });
});
