import { describe, expect, it } from 'vitest';

import { mulberry32 } from '#libs/pure/random';

import { type AugmentConfig, augmentImage, isIdentity, scalePixels } from './augment.js';

const W = 8;
const H = 6;
/** A gray ramp with a bright block, so any shift, flip or turn shows. */
const image = Uint8Array.from(
  { length: W * H },
  (_, i) => ((i % W) * 20 + Math.floor(i / W) * 5 + (i % W < 3 && i < 3 * W ? 100 : 0)) % 256,
);

function augmented(augment: AugmentConfig, seed: number): Float32Array {
  const out = new Float32Array(W * H);
  augmentImage(image, W, H, 1, augment, mulberry32(seed), out, 0);
  return out;
}

describe('augmentImage', () => {
  const all: AugmentConfig = { flipHorizontal: true, rotate: 15, translate: 0.1, zoom: 0.1 };

  it('is the plain [0, 1] scaling when every change is off', () => {
    const none: AugmentConfig = { flipHorizontal: false, rotate: 0, translate: 0, zoom: 0 };
    expect(isIdentity(none)).toBe(true);
    const scaled = new Float32Array(W * H);
    scalePixels(image, scaled);
    expect(Array.from(augmented(none, 1))).toEqual(Array.from(scaled).map((v) => expect.closeTo(v, 6)));
  });

  it('is reproducible for a seed and differs between seeds', () => {
    expect(Array.from(augmented(all, 7))).toEqual(Array.from(augmented(all, 7)));
    expect(Array.from(augmented(all, 7))).not.toEqual(Array.from(augmented(all, 8)));
  });

  it('flips horizontally exactly when only flipping is on (for the seeds whose draw flips)', () => {
    const flipOnly: AugmentConfig = { flipHorizontal: true, rotate: 0, translate: 0, zoom: 0 };
    let flips = 0;
    for (let seed = 0; seed < 20; seed++) {
      const out = augmented(flipOnly, seed);
      const mirrored = out.every(
        (value, i) => Math.abs(value - image[Math.floor(i / W) * W + (W - 1 - (i % W))] / 255) < 1e-6,
      );
      const same = out.every((value, i) => Math.abs(value - image[i] / 255) < 1e-6);
      expect(mirrored || same).toBe(true);
      if (mirrored) flips++;
    }
    expect(flips).toBeGreaterThan(3);
    expect(flips).toBeLessThan(17);
  });

  it('keeps values in [0, 1]', () => {
    for (let seed = 0; seed < 10; seed++)
      for (const value of augmented(all, seed)) expect(value >= 0 && value <= 1).toBe(true);
  });
});
