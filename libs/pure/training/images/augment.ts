/** `training.image.augment`: random changes to training images, drawn anew for every batch. */
export interface AugmentConfig {
  flipHorizontal: boolean;
  /** Largest rotation either way, in degrees. */
  rotate: number;
  /** Largest shift either way, as a fraction of the width and height. */
  translate: number;
  /** Largest zoom in or out, as a fraction (0.1: scale 0.9 to 1.1). */
  zoom: number;
}

export function isIdentity(augment: AugmentConfig | null | undefined): boolean {
  return !augment || (!augment.flipHorizontal && augment.rotate === 0 && augment.translate === 0 && augment.zoom === 0);
}

const INV_255 = 1 / 255;

/** uint8 pixels to [0, 1] floats at `out` (the un-augmented path: validation, prediction, augment off). */
export function scalePixels(pixels: Uint8Array, out: Float32Array, offset = 0): void {
  for (let i = 0; i < pixels.length; i++) out[offset + i] = pixels[i] * INV_255;
}

/**
 * Writes one image, randomly flipped, rotated, shifted and zoomed about its centre, scaled to [0, 1], at `offset`
 * of `out`. Each output pixel samples the source bilinearly through the inverse transform; what falls outside is 0.
 * `random` is the run's seeded generator, so a seed reproduces every batch.
 */
export function augmentImage(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  augment: AugmentConfig,
  random: () => number,
  out: Float32Array,
  offset: number,
): void {
  const uniform = (limit: number) => (random() * 2 - 1) * limit;
  const flip = augment.flipHorizontal && random() < 0.5;
  const angle = (uniform(augment.rotate) * Math.PI) / 180;
  const shiftX = uniform(augment.translate) * width;
  const shiftY = uniform(augment.translate) * height;
  const scale = 1 + uniform(augment.zoom);
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const centerX = (width - 1) / 2;
  const centerY = (height - 1) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (flip ? width - 1 - x : x) - centerX - shiftX;
      const dy = y - centerY - shiftY;
      const sx = cos * dx + sin * dy + centerX;
      const sy = -sin * dx + cos * dy + centerY;
      const target = offset + (y * width + x) * channels;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const wx = sx - x0;
      const wy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const at = (px: number, py: number) =>
          px < 0 || py < 0 || px >= width || py >= height ? 0 : pixels[(py * width + px) * channels + c];
        const top = at(x0, y0) * (1 - wx) + at(x0 + 1, y0) * wx;
        const bottom = at(x0, y0 + 1) * (1 - wx) + at(x0 + 1, y0 + 1) * wx;
        out[target + c] = (top * (1 - wy) + bottom * wy) * INV_255;
      }
    }
  }
}
