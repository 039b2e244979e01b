import { describe, expect, it } from 'vitest';

import { deriveSeed, hashSeed, hashString, mulberry32, rngFor, seededPermutation, shuffleInPlace } from './index.js';

// The values below were taken from the generators as they stood before they moved here (search/rng.ts,
// training/random.ts and seeding.ts, data/dataset-analysis.ts): seeded sweeps, runs and estimates depend on them.
describe('seeded results stay the same', () => {
  it('mulberry32', () => {
    const random = mulberry32(42);
    expect([random(), random(), random()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('hashSeed and rngFor (sweeps)', () => {
    expect([hashSeed(1, 2, 0), hashSeed(-1.5, 0), hashSeed(2 ** 40, 3)]).toEqual([3625876179, 3789419526, 1129269019]);
    expect([rngFor(1, 2)(), rngFor(1, 2, 1)()]).toEqual([0.8967060532886535, 0.9823634175118059]);
  });

  it("deriveSeed (a run's streams)", () => {
    expect([deriveSeed(1), deriveSeed(1, 1, 0), deriveSeed(7, 2, 123), deriveSeed(7, 3, 123)]).toEqual([
      1059954845, 3802277428, 4008044574, 2121241096,
    ]);
  });

  it('shuffleInPlace and seededPermutation', () => {
    expect(Array.from(seededPermutation(new Int32Array(10), 3))).toEqual([9, 5, 6, 1, 2, 4, 8, 3, 0, 7]);
    expect(shuffleInPlace(['a', 'b', 'c', 'd', 'e', 'f'], mulberry32(9))).toEqual(['d', 'f', 'c', 'a', 'e', 'b']);
    const identity = Int32Array.from({ length: 50 }, (_, i) => i);
    expect(seededPermutation(new Int32Array(50), 5)).toEqual(shuffleInPlace(identity, mulberry32(5)));
  });

  it('hashString (distinct-count estimates)', () => {
    expect([hashString(''), hashString('abc'), hashString('Iris-setosa')]).toEqual([2872998923, 482950588, 504332778]);
  });
});

describe('seeded generators', () => {
  it('are deterministic and in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('rngFor gives each (seed, index, stream) its own stream, for any finite seed', () => {
    expect(rngFor(1, 2)()).toBe(rngFor(1, 2)());
    expect(rngFor(1, 2)()).not.toBe(rngFor(1, 3)());
    expect(rngFor(1, 2)()).not.toBe(rngFor(2, 2)());
    expect(rngFor(1, 2)()).not.toBe(rngFor(1, 2, 1)());
    expect(rngFor(-1.5, 0)()).not.toBe(rngFor(1.5, 0)());
  });

  it('a permutation holds every index once', () => {
    const order = seededPermutation(new Int32Array(1000), 11);
    expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});
