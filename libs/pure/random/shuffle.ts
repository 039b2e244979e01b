import { mulberry32, type Rng } from './rng.js';

/** Fisher–Yates, from the end: the one shuffle, so a seed orders rows the same wherever they are shuffled. */
export function shuffleInPlace<T extends { length: number; [index: number]: unknown }>(items: T, random: Rng): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i];
    items[i] = items[j];
    items[j] = swap;
  }
  return items;
}

/** A seeded permutation of 0..length-1, written into `order`. */
export function seededPermutation(order: Int32Array, seed: number): Int32Array {
  for (let i = 0; i < order.length; i++) order[i] = i;
  return shuffleInPlace(order, mulberry32(seed));
}
