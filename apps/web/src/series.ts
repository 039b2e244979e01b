// With its extension: test/dashboard.e2e.ts imports this file too, under the server's module rules.
import type { Point } from './types.js';

/**
 * Adds points to a series, keeping steps in order and never doubling one (a resumed epoch logs again; the first
 * point of a step stays). Points that only extend the series are appended, the common case while a run trains.
 */
export function withPoints(series: Record<string, Point[]>, name: string, incoming: Point[]): Record<string, Point[]> {
  const points = series[name] ?? [];
  const extended = points.slice();
  let last = points.length > 0 ? points[points.length - 1].step : -Infinity;
  let inOrder = true;
  for (const point of incoming) {
    if (point.step <= last) {
      inOrder = false;
      break;
    }
    extended.push(point);
    last = point.step;
  }
  if (inOrder) return { ...series, [name]: extended };
  const byStep = new Map(points.map((point) => [point.step, point]));
  for (const point of incoming) if (!byStep.has(point.step)) byStep.set(point.step, point);
  return { ...series, [name]: [...byStep.values()].sort((a, b) => a.step - b.step) };
}

/** {@link withPoints} for several series at once: a batch of live points, or the stored ones of every series. */
export function withAllPoints(
  series: Record<string, Point[]>,
  batches: Iterable<readonly [string, Point[]]>,
): Record<string, Point[]> {
  let merged = series;
  for (const [name, points] of batches) merged = withPoints(merged, name, points);
  return merged;
}

/**
 * Points worth fetching per series: one per pixel column of a chart (two charts share a row of the page), so a run
 * of a million points comes back downsampled on the server to what can be drawn; live points are added on top.
 * Self-contained, so the browser test can run this very function in the page (puppeteer's page.evaluate).
 */
export function chartPointBudget(): number {
  const width = document.querySelector('main')?.clientWidth ?? window.innerWidth;
  return Math.max(200, Math.round(width > 1100 ? width / 2 : width));
}
