import { describe, expect, it } from 'vitest';

import { withPoints } from './series';

const points = (...steps: number[]) => steps.map((step) => ({ step, value: step / 10 }));

describe('withPoints', () => {
  it('appends points that extend a series, leaving the series it was given as it was', () => {
    const before = { loss: points(1, 2) };
    const after = withPoints(before, 'loss', points(3, 4));
    expect(after.loss.map((point) => point.step)).toEqual([1, 2, 3, 4]);
    expect(before.loss).toHaveLength(2);
    expect(withPoints(after, 'val_loss', points(1)).val_loss).toEqual(points(1));
  });

  it('merges points out of order by step and keeps the first point of a step', () => {
    const merged = withPoints({ loss: points(1, 4) }, 'loss', [...points(5, 2), { step: 4, value: 99 }, ...points(3)]);
    expect(merged.loss.map((point) => point.step)).toEqual([1, 2, 3, 4, 5]);
    expect(merged.loss.find((point) => point.step === 4)?.value).toBe(0.4);
  });
});
