import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Images wider or taller than this are skipped at upload and refused at predict. */
export const MAX_IMAGE_SIDE = 4096;

export type ImageKind = 'png' | 'jpeg';

/** A decoded image as 8-bit RGBA, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** What the first bytes say the file is; undefined for anything but PNG and JPEG. */
export function imageKind(bytes: Uint8Array): ImageKind | undefined {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((byte, index) => bytes[index] === byte)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * The size an image declares in its header, read without decoding (PNG's IHDR, JPEG's first SOF
 * marker), so an oversized image is turned away before a decoder allocates for it.
 */
export function imageSize(bytes: Uint8Array, kind: ImageKind): { width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === 'png') return bytes.length >= 24 ? { width: view.getUint32(16), height: view.getUint32(20) } : undefined;
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset++;
      continue;
    }
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
    }
    offset += 2 + view.getUint16(offset + 2);
  }
  return undefined;
}

/**
 * Decodes a PNG (gray, gray+alpha, RGB, RGBA, palette; 8 or 16 bits) or a JPEG (baseline or
 * progressive) to RGBA. Anything else, or a file that does not decode, throws an ImageDecodeError
 * saying why.
 */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  const kind = imageKind(bytes);
  if (!kind) throw new ImageDecodeError('not a PNG or JPEG image');
  const size = imageSize(bytes, kind);
  if (!size || size.width === 0 || size.height === 0)
    throw new ImageDecodeError(`the ${kind.toUpperCase()} header is damaged`);
  if (size.width > MAX_IMAGE_SIDE || size.height > MAX_IMAGE_SIDE) {
    throw new ImageDecodeError(`${size.width}×${size.height} is over the ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE} limit`);
  }
  try {
    if (kind === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return {
        width: png.width,
        height: png.height,
        rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
      };
    }
    const image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: 17,
      maxMemoryUsageInMB: 256,
    });
    return { width: image.width, height: image.height, rgba: image.data };
  } catch (error) {
    throw new ImageDecodeError(`the ${kind.toUpperCase()} data does not decode (${(error as Error).message})`);
  }
}

/**
 * Resizes RGBA to width × height × channels (1: luminance, 3: RGB) by bilinear sampling, with a
 * box pre-filter when shrinking by 2× or more so small digits do not alias away. Transparent
 * pixels are composited over black, the usual background of the datasets this serves.
 */
export function resizeImage(
  image: DecodedImage,
  width: number,
  height: number,
  channels: 1 | 3,
  out = new Uint8Array(width * height * channels),
): Uint8Array {
  const { rgba, width: sourceWidth, height: sourceHeight } = image;
  const scaleX = sourceWidth / width;
  const scaleY = sourceHeight / height;
  // Box filter radius in source pixels (0 when enlarging or shrinking a little).
  const boxX = Math.max(1, Math.floor(scaleX));
  const boxY = Math.max(1, Math.floor(scaleY));
  const sample = new Float32Array(3);
  const read = (x: number, y: number, target: Float32Array) => {
    // Mean of a boxX × boxY block whose top-left is (x, y), clamped to the image.
    target[0] = target[1] = target[2] = 0;
    let count = 0;
    for (let dy = 0; dy < boxY; dy++) {
      const sy = Math.min(sourceHeight - 1, y + dy);
      for (let dx = 0; dx < boxX; dx++) {
        const sx = Math.min(sourceWidth - 1, x + dx);
        const index = (sy * sourceWidth + sx) * 4;
        const alpha = rgba[index + 3] / 255;
        target[0] += rgba[index] * alpha;
        target[1] += rgba[index + 1] * alpha;
        target[2] += rgba[index + 2] * alpha;
        count++;
      }
    }
    target[0] /= count;
    target[1] /= count;
    target[2] /= count;
  };
  const a = new Float32Array(3);
  const b = new Float32Array(3);
  const c = new Float32Array(3);
  const d = new Float32Array(3);
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * scaleY - 0.5 - (boxY - 1) / 2);
    const y0 = Math.min(sourceHeight - 1, Math.floor(fy));
    const y1 = Math.min(sourceHeight - 1, y0 + boxY);
    const wy = Math.min(1, (fy - y0) / boxY);
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * scaleX - 0.5 - (boxX - 1) / 2);
      const x0 = Math.min(sourceWidth - 1, Math.floor(fx));
      const x1 = Math.min(sourceWidth - 1, x0 + boxX);
      const wx = Math.min(1, (fx - x0) / boxX);
      read(x0, y0, a);
      read(x1, y0, b);
      read(x0, y1, c);
      read(x1, y1, d);
      for (let k = 0; k < 3; k++)
        sample[k] = (a[k] * (1 - wx) + b[k] * wx) * (1 - wy) + (c[k] * (1 - wx) + d[k] * wx) * wy;
      const offset = (y * width + x) * channels;
      if (channels === 1) out[offset] = Math.round(0.299 * sample[0] + 0.587 * sample[1] + 0.114 * sample[2]);
      else {
        out[offset] = Math.round(sample[0]);
        out[offset + 1] = Math.round(sample[1]);
        out[offset + 2] = Math.round(sample[2]);
      }
    }
  }
  return out;
}
