/**
 * Small seeded PRNG. `suggest` derives a fresh generator from (seed, trialIndex) on every
 * call, so no RNG state has to be stored between suggestions: the same sweep seed, trial
 * index and history always give the same parameters (restart-safe sweeps).
 */

export type Rng = () => number; // uniform in [0, 1)

/** murmur3 fmix32 finaliser. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits any finite number into two 32-bit words (integers exactly, others via their bits). */
function words(x: number): [number, number] {
  if (Number.isSafeInteger(x)) {
    const neg = x < 0 ? 1 : 0;
    const a = Math.abs(x);
    return [a >>> 0, ((Math.floor(a / 0x100000000) >>> 0) ^ (neg ? 0x80000000 : 0)) >>> 0];
  }
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  return [buf.getUint32(4), buf.getUint32(0)];
}

/** Deterministic 32-bit hash of a list of numbers. */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const [lo, hi] = words(p);
    h = fmix32((h ^ lo) + 0x6d2b79f5);
    h = fmix32((h ^ hi) + 0x6d2b79f5);
  }
  return h;
}

/** mulberry32: 32-bit state, period 2^32, good enough for sampling hyperparameters. */
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

/** The generator for one suggestion of a sweep. */
export function rngFor(seed: number, trialIndex: number, stream = 0): Rng {
  return mulberry32(hashSeed(seed, trialIndex, stream));
}
