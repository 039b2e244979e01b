import type { Point } from './types';

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
