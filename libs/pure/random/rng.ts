import { hashSeed } from './seed-hash.js';

/** A seeded generator, uniform in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: 32-bit state, period 2^32; good enough for sampling hyperparameters, splitting and shuffling data.
 * Every seeded draw of the service goes through it, so one seed reproduces a sweep's suggestions and a run's data.
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The generator for draw `stream` of suggestion `index` of a sweep seeded `seed`: derived afresh on every call, so
 * the same seed, index and history always give the same parameters (restart-safe sweeps).
 */
export function rngFor(seed: number, index: number, stream = 0): Rng {
  return mulberry32(hashSeed(seed, index, stream));
}
