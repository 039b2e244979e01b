import type { Rng } from '#libs/pure/random';

import { intCount, intHigh, intStep, type Params, type ParamSpec, type ParamValue, type SearchSpace } from './space.js';

/** Lower/upper edges (in value space) of the log-scaled int range, half a step outside the grid. */
export function intLogEdges(spec: { min: number; max: number; step?: number }): [number, number] {
  const step = intStep(spec);
  const lo = spec.min - step / 2 > 0 ? spec.min - step / 2 : spec.min / 2;
  return [lo, intHigh(spec) + step / 2];
}

/** Snaps a real number to the int grid min + k·step, clipped to [min, intHigh]. */
export function snapInt(spec: { min: number; max: number; step?: number }, x: number): number {
  const step = intStep(spec);
  const k = Math.round((x - spec.min) / step);
  const v = spec.min + k * step;
  return Math.min(intHigh(spec), Math.max(spec.min, v));
}

/** One uniformly random value of one parameter (log params uniform in log space). */
export function sampleParam(spec: ParamSpec, rng: Rng): ParamValue {
  const u = rng();
  switch (spec.type) {
    case 'uniform':
      return Math.min(spec.max, spec.min + u * (spec.max - spec.min));
    case 'loguniform': {
      const lo = Math.log(spec.min);
      const hi = Math.log(spec.max);
      return Math.min(spec.max, Math.max(spec.min, Math.exp(lo + u * (hi - lo))));
    }
    case 'int': {
      if (spec.log) {
        const [lo, hi] = intLogEdges(spec);
        const x = Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo)));
        return snapInt(spec, x);
      }
      const k = Math.min(intCount(spec) - 1, Math.floor(u * intCount(spec)));
      return spec.min + k * intStep(spec);
    }
    case 'choice':
      return spec.values[Math.min(spec.values.length - 1, Math.floor(u * spec.values.length))]!;
  }
}

/** Independent random values for every parameter, in the space's order. */
export function sampleRandom(space: SearchSpace, rng: Rng): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(space)) out[name] = sampleParam(spec, rng);
  return out;
}
