import { mulberry32 } from '#libs/pure/search';

/** A seeded generator in [0, 1) (mulberry32, shared with the search algorithms), so a seed reproduces splits and shuffles. */
export const createRng: (seed: number) => () => number = mulberry32;

export function shuffleInPlace<T extends { length: number; [index: number]: unknown }>(items: T, random: () => number): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i];
    items[i] = items[j];
    items[j] = swap;
  }
  return items;
}
