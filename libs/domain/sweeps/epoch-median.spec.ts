import { describe, expect, it } from 'vitest';

import { mulberry32 } from '#libs/pure/random';

import { addToMedian, compareRanked, type EpochMedian, medianValue, type RankedValue } from './epoch-median.js';

/** The set kept sorted by brute force: the running median must match it after every insertion. */
function check(values: number[]): void {
  const sorted: RankedValue[] = [];
  let median: EpochMedian | null = null;
  values.forEach((value, trial) => {
    const added = { value, trial };
    // the neighbours in the set before `added` joins it, as the store's index seeks find them
    const below = median ? (sorted.filter((x) => compareRanked(x, median!.low) < 0).at(-1) ?? null) : null;
    const above = median ? (sorted.find((x) => compareRanked(x, median!.high) > 0) ?? null) : null;
    median = addToMedian(median, added, { below, above });
    sorted.push(added);
    sorted.sort(compareRanked);
    const n = sorted.length;
    expect(median).toEqual({ count: n, low: sorted[Math.floor((n + 1) / 2) - 1], high: sorted[Math.floor(n / 2)] });
    const plain = sorted.map((x) => x.value);
    const expected = n % 2 ? plain[(n - 1) / 2]! : (plain[n / 2 - 1]! + plain[n / 2]!) / 2;
    expect(Object.is(medianValue(median), expected) || medianValue(median) === expected).toBe(true);
  });
}

describe('the running median of an epoch', () => {
  it('starts at the first value and moves by one element per value added', () => {
    let median = addToMedian(null, { value: 5, trial: 0 }, { below: null, above: null });
    expect(median).toEqual({ count: 1, low: { value: 5, trial: 0 }, high: { value: 5, trial: 0 } });
    median = addToMedian(median, { value: 1, trial: 1 }, { below: null, above: null });
    expect(medianValue(median)).toBe(3);
    median = addToMedian(median, { value: 9, trial: 2 }, { below: null, above: null });
    expect(median).toEqual({ count: 3, low: { value: 5, trial: 0 }, high: { value: 5, trial: 0 } });
  });

  it('matches the sorted set on random values with many ties and the infinities', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = mulberry32(seed);
      const pool = [0, 0.5, 1, 1, 2, Infinity, -Infinity, -0];
      check(Array.from({ length: 60 }, () => (rng() < 0.6 ? pool[Math.floor(rng() * pool.length)]! : rng())));
    }
  });

  it('orders equal values by trial, so every element has one place', () => {
    check([1, 1, 1, 1, 1, 1, 1]);
    expect(compareRanked({ value: 1, trial: 2 }, { value: 1, trial: 3 })).toBeLessThan(0);
  });

  it('takes the neighbour below the middle when the added value is further out, and the added value when not', () => {
    const three = { count: 3, low: { value: 5, trial: 0 }, high: { value: 5, trial: 0 } };
    const below = { value: 4, trial: 1 };
    expect(addToMedian(three, { value: 1, trial: 9 }, { below, above: null }).low).toEqual(below);
    expect(addToMedian(three, { value: 4.5, trial: 9 }, { below, above: null }).low).toEqual({ value: 4.5, trial: 9 });
  });
});
