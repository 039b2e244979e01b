import { deflateSync } from 'node:zlib';

import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

import { decodeImage, ImageDecodeError, imageKind, imageSize, resizeImage } from './image-decoder.js';

/** A 4×3 test picture: pixel (x, y) has red 60x, green 80y, blue 200, alpha 255. */
const W = 4;
const H = 3;
const rgbaAt = (x: number, y: number) => [60 * x, 80 * y, 200, 255];

function png(colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16 = 8): Buffer {
  const image = new PNG({ width: W, height: H });
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) image.data.set(rgbaAt(x, y), (y * W + x) * 4);
  return PNG.sync.write(image, { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
}

/** An indexed-colour PNG (colour type 3) written by hand: pngjs reads palettes but does not write them. */
function palettePng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(2, 0);
  header.writeUInt32BE(2, 4);
  header.set([8, 3, 0, 0, 0], 8);
  const palette = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255]);
  const rows = Buffer.from([0, 0, 1, 0, 2, 0]); // filter byte, then two indices a row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', palette),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decodeImage', () => {
  it('reads RGBA and RGB PNGs exactly', () => {
    for (const colorType of [6, 2] as const) {
      const image = decodeImage(png(colorType));
      expect([image.width, image.height]).toEqual([W, H]);
      expect(Array.from(image.rgba.subarray((1 * W + 2) * 4, (1 * W + 2) * 4 + 4))).toEqual(rgbaAt(2, 1));
    }
  });

  it('reads gray and gray+alpha PNGs (8 and 16 bits) as equal R, G, B', () => {
    for (const [colorType, bitDepth] of [
      [0, 8],
      [4, 8],
      [0, 16],
    ] as const) {
      const image = decodeImage(png(colorType, bitDepth));
      const [r, g, b, a] = image.rgba.subarray(0, 4);
      expect(r).toBe(g);
      expect(g).toBe(b);
      expect(a).toBe(255);
    }
  });

  it('reads a palette PNG', () => {
    const image = decodeImage(palettePng());
    expect([image.width, image.height]).toEqual([2, 2]);
    expect(Array.from(image.rgba)).toEqual([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 0, 0, 255]);
  });

  it('reads baseline and progressive JPEGs', () => {
    const baseline = jpeg.encode({ width: 16, height: 8, data: Buffer.alloc(16 * 8 * 4, 128) }, 90).data;
    expect(imageSize(baseline, 'jpeg')).toEqual({ width: 16, height: 8 });
    const decoded = decodeImage(baseline);
    expect(decoded.width).toBe(16);
    expect(Math.abs(decoded.rgba[0] - 128)).toBeLessThan(4);
    // A progressive JPEG (SOF2), 16×8, red left half and blue right half, written by libjpeg (Pillow).
    const progressive = Buffer.from(PROGRESSIVE_16X8, 'base64');
    expect(progressive.includes(Buffer.from([0xff, 0xc2]))).toBe(true);
    const image = decodeImage(progressive);
    expect([image.width, image.height]).toEqual([16, 8]);
    const pixel = (x: number, y: number) => Array.from(image.rgba.subarray((y * 16 + x) * 4, (y * 16 + x) * 4 + 3));
    // libjpeg decodes these pixels to exactly (200, 40, 40) and (40, 40, 200); jpeg-js's IDCT may differ by a little.
    pixel(2, 2).forEach((value, c) => expect(Math.abs(value - [200, 40, 40][c])).toBeLessThanOrEqual(3));
    pixel(13, 5).forEach((value, c) => expect(Math.abs(value - [40, 40, 200][c])).toBeLessThanOrEqual(3));
  });

  it('refuses what is not an image, a damaged one, and one over 4096×4096, saying why', () => {
    expect(imageKind(Buffer.from('hello world'))).toBeUndefined();
    expect(() => decodeImage(Buffer.from('hello world'))).toThrow(new ImageDecodeError('not a PNG or JPEG image'));
    expect(() => decodeImage(png(6).subarray(0, 50))).toThrow(/does not decode/);
    const huge = Buffer.from(png(6));
    huge.writeUInt32BE(5000, 16);
    expect(() => decodeImage(huge)).toThrow(/5000×3 is over the 4096×4096 limit/);
  });
});

describe('resizeImage', () => {
  it('keeps an image of the same size exactly, and gives luminance for one channel', () => {
    const image = decodeImage(png(6));
    expect(Array.from(resizeImage(image, W, H, 3).subarray(0, 6))).toEqual([0, 0, 200, 60, 0, 200]);
    expect(resizeImage(image, W, H, 1)[0]).toBe(Math.round(0.114 * 200));
  });

  it('averages 2×2 blocks when halving, and composites transparency over black', () => {
    const rgba = new Uint8Array([0, 0, 0, 255, 200, 200, 200, 255, 100, 100, 100, 255, 100, 100, 100, 0]);
    expect(Array.from(resizeImage({ width: 2, height: 2, rgba }, 1, 1, 1))).toEqual([75]);
  });
});

// Pillow 9.4: Image.new('RGB', (16, 8)) red | blue, save('JPEG', quality=95, progressive=True, subsampling=0).
const PROGRESSIVE_16X8 =
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDA' +
  'sKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wgARCAAI' +
  'ABADAREAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAABgf/xAAVAQEBAAAAAAAAAAAAAAAAAAAIBv/aAAwDAQACEAMQAAABl8SoAbWIv//EAB' +
  'QQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEAAQUCP//EABQRAQAAAAAAAAAAAAAAAAAAABD/2gAIAQMBAT8BP//EABQRAQAAAAAAAAAAAAAAAAAA' +
  'ABD/2gAIAQIBAT8BP//EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEABj8CP//EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEAAT8hP//aAA' +
  'wDAQACAAMAAAAQA//EABQRAQAAAAAAAAAAAAAAAAAAABD/2gAIAQMBAT8QP//EABQRAQAAAAAAAAAAAAAAAAAAABD/2gAIAQIBAT8QP//EABQQ' +
  'AQAAAAAAAAAAAAAAAAAAABD/2gAIAQEAAT8QP//Z';
