/**
 * The median of a growing set of values, kept as its two middle elements so that reading it costs one row and
 * adding a value costs at most one index seek: what lets the median pruning rule ask "the median of the finished
 * trials at epoch e" without reading those trials (see sweep-trials.ts, table sweep_epoch_medians).
 *
 * Values are ordered by (value, trial): the trial index makes every element distinct, so "the element just below
 * the low middle" is always well defined, also between equal values. PostgreSQL orders the index
 * (sweep_id, epoch, value, trial_index) the same way (float8 and JavaScript agree on every non-NaN value; NaN is
 * never stored: the rule ignores it).
 */

export interface RankedValue {
  value: number;
  trial: number;
}

/** count ≥ 1; for an odd count low and high are the same element (the middle one). */
export interface EpochMedian {
  count: number;
  /** The element of rank ⌊(count + 1) / 2⌋ (1-based). */
  low: RankedValue;
  /** The element of rank ⌊count / 2⌋ + 1. */
  high: RankedValue;
}

export function compareRanked(a: RankedValue, b: RankedValue): number {
  return a.value < b.value ? -1 : a.value > b.value ? 1 : a.trial - b.trial;
}

/** The median as the search library computes it: the middle value, or the mean of the two middle ones. */
export function medianValue(median: EpochMedian): number {
  return median.count % 2 ? median.low.value : (median.low.value + median.high.value) / 2;
}

/**
 * The median after `added` joins the set. `neighbours` are taken in the set as it was before: `below` the greatest
 * element under `median.low`, `above` the least over `median.high` (null when there is none); they matter only
 * when the count was odd.
 */
export function addToMedian(
  median: EpochMedian | null,
  added: RankedValue,
  neighbours: { below: RankedValue | null; above: RankedValue | null },
): EpochMedian {
  if (!median || median.count === 0) return { count: 1, low: added, high: added };
  const count = median.count + 1;
  if (median.count % 2) {
    // One middle element M: the new pair is (the greatest element below M, M) or (M, the least element above M),
    // and the added element may be that one.
    const middle = median.low;
    if (compareRanked(added, middle) < 0) {
      const below = neighbours.below && compareRanked(neighbours.below, added) > 0 ? neighbours.below : added;
      return { count, low: below, high: middle };
    }
    const above = neighbours.above && compareRanked(neighbours.above, added) < 0 ? neighbours.above : added;
    return { count, low: middle, high: above };
  }
  // Two middle elements L < H: the new middle is L, H, or the added element between them.
  if (compareRanked(added, median.low) < 0) return { count, low: median.low, high: median.low };
  if (compareRanked(added, median.high) > 0) return { count, low: median.high, high: median.high };
  return { count, low: added, high: added };
}
