/**
 * Seed hashes: a fresh generator is derived from (seed, index, ...) on every use, so no generator state has to be
 * stored and resumed. Two mixes live here because seeded results are persisted behaviour: a sweep restarted from
 * its history must suggest what it would have, and a resumed run must shuffle as an uninterrupted one. Each
 * output is pinned in random.spec.ts; changing either changes every seeded result made with it.
 */

/** murmur3's fmix32 finaliser: every input bit affects every output bit. */
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

/** A 32-bit hash of any finite numbers (a sweep's seed may be any number): the sweeps' suggestions use it. */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const [lo, hi] = words(p);
    h = fmix32((h ^ lo) + 0x6d2b79f5);
    h = fmix32((h ^ hi) + 0x6d2b79f5);
  }
  return h;
}

/**
 * A 32-bit seed derived from a run's (integer) seed and a path of integers (layer index, epoch, step, ...), so
 * every random draw of a run has its own stream that does not depend on how many draws came before.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const part of [...parts, parts.length]) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** A 32-bit hash of a string (FNV-1a, then fmix32 so the high bits, a HyperLogLog's register index, are mixed). */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return fmix32(hash);
}
