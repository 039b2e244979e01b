import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resizeImage, scanImageArchive } from '#libs/pure/data';

import { mnistPngs, zipOf } from '../../../../test/support/image-zips.js';
import { selectBackend } from '../backend.js';
import { buildModel } from '../model-builder.js';
import { resolveModelSpec } from '../model-spec.js';
import type { PreparedData } from '../preprocessing.js';
import { trainModel } from '../trainer.js';
import { resolveTrainingConfig } from '../training-config.js';
import { decodeThreadCount, DiskImageStore, MAX_DECODE_THREADS, MemoryImageStore, splitBatch } from './image-store.js';

// The decoding thread runs as plain JavaScript: the built twin of image-decode.worker.ts (npm run build).
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const builtWorker = join(root, 'dist/libs/pure/training/images/image-decode.worker.js');
const workerUrl = pathToFileURL(builtWorker);
const shape = { width: 20, height: 20, channels: 3 as const };
const frame = 20 * 20 * 3;

describe('decodeThreadCount', () => {
  it('takes one thread per core the training loop leaves spare, at least one, at most the ceiling', () => {
    expect(decodeThreadCount(1)).toBe(1);
    expect(decodeThreadCount(2)).toBe(1);
    expect(decodeThreadCount(4)).toBe(3);
    expect(decodeThreadCount(9)).toBe(8);
    expect(decodeThreadCount(64)).toBe(MAX_DECODE_THREADS);
    expect(decodeThreadCount(0)).toBe(1);
  });
});

describe('splitBatch', () => {
  it('cuts a batch into contiguous, non-empty, near-even slices that laid end to end are the batch', () => {
    for (const [count, parts] of [
      [64, 3],
      [64, 8],
      [5, 8],
      [1, 4],
      [7, 7],
      [100, 1],
    ]) {
      const slices = splitBatch(count, parts);
      expect(slices.length).toBe(Math.min(count, parts));
      expect(slices[0].start).toBe(0);
      expect(slices.at(-1)!.end).toBe(count);
      for (let i = 1; i < slices.length; i++) expect(slices[i].start).toBe(slices[i - 1].end);
      const sizes = slices.map((slice) => slice.end - slice.start);
      expect(Math.min(...sizes)).toBeGreaterThan(0);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(splitBatch(64, 3).map((slice) => slice.end - slice.start)).toEqual([22, 21, 21]);
  });
});

describe('DiskImageStore', () => {
  let dir: string;
  let archive: string;
  let files: string[];
  let memory: MemoryImageStore;

  beforeAll(async () => {
    if (!existsSync(builtWorker)) throw new Error(`${builtWorker} is missing: run npm run build first`);
    dir = mkdtempSync(join(tmpdir(), 'image-store-'));
    archive = join(dir, 'digits.zip');
    const digits = mnistPngs(60).training;
    const entries = digits.map((digit, i) => ({ name: `${digit.label}/${i}.png`, data: digit.png }));
    entries.push({ name: 'notes/readme.png', data: Buffer.from('not an image at all') });
    writeFileSync(archive, await zipOf(entries));
    // The in-memory path's pixels, decoded as the worker does for a dataset under TRAINING_CACHE_MB.
    const pixels = new Uint8Array(digits.length * frame);
    const scan = await scanImageArchive(archive, {
      maxUnpackedBytes: Infinity,
      onImage: (image, _row, index) =>
        resizeImage(image, 20, 20, 3, pixels.subarray(index * frame, (index + 1) * frame)),
    });
    files = scan.rows.map((row) => row.file);
    expect(files.length).toBe(60);
    memory = new MemoryImageStore(pixels, frame);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([1, 2, 3, 5])('gives the in-memory bytes in request order on %i decoding threads', async (threads) => {
    const store = await DiskImageStore.open(archive, files, shape, { threads, workerUrl });
    try {
      expect(store.threads).toBe(threads);
      expect(store.count).toBe(60);
      // A shuffled batch, an odd-sized one, one with repeats, and one prefetched ahead of the read.
      const batches = [Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 60), [59, 0, 17], [4, 4, 9, 4], [42]];
      store.prefetch(batches[1]);
      const read = await Promise.all(batches.map((batch) => store.read(Int32Array.from(batch))));
      read.forEach((pixels, i) =>
        expect(Buffer.from(pixels).equals(Buffer.from(memory.readSync(batches[i])))).toBe(true),
      );
    } finally {
      await store.close();
    }
  });

  it('fails a batch naming the file that does not decode, and keeps serving the others', async () => {
    const store = await DiskImageStore.open(archive, [...files, 'notes/readme.png', 'gone.png'], shape, {
      threads: 2,
      workerUrl,
    });
    try {
      await expect(store.read([0, 1, 60])).rejects.toThrow(
        /decoding a batch of .*digits\.zip failed: notes\/readme\.png: /,
      );
      await expect(store.read([61])).rejects.toThrow(/gone\.png: the archive has no entry "gone\.png"/);
      await expect(store.read([60, 0])).rejects.toThrow(/notes\/readme\.png/);
      expect(Buffer.from(await store.read([2, 3])).equals(Buffer.from(memory.readSync([2, 3])))).toBe(true);
      await expect(store.read([62])).rejects.toThrow(/image 62 is outside the store's 62 images/);
    } finally {
      await store.close();
    }
  });

  it(
    "stops a training run with the decoding thread's error " + 'naming the file (the worker records it as FAILED)',
    async () => {
      await selectBackend('wasm');
      // Row 61 of 62 is the text file: the first training epoch reaches it.
      const store = await DiskImageStore.open(archive, [...files, 'notes/readme.png', files[0]], shape, {
        threads: 2,
        workerUrl,
      });
      const columns = [
        { name: 'image', type: 'IMAGE' as const, missing: 0, distinct: 62, min: null, max: null, mean: null },
        { name: 'label', type: 'STRING' as const, missing: 0, distinct: 10, min: null, max: null, mean: null },
      ];
      const image = { width: 20, height: 20, channels: 3 };
      const training = resolveTrainingConfig({ target: 'label', epochs: 1, batchSize: 16, seed: 1, image }, columns, 1);
      const layers = [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }];
      const spec = resolveModelSpec({ layers, loss: 'sparseCategoricalCrossentropy', optimizer: { type: 'adam' } }, {});
      const model = buildModel(spec, [20, 20, 3], 10);
      const target = {
        name: 'label',
        task: 'classification' as const,
        encoding: 'sparse' as const,
        sourceType: 'STRING' as const,
      };
      const data: PreparedData = {
        preprocessing: {
          version: 1,
          features: [],
          inputSize: frame,
          inputShape: [20, 20, 3],
          target: { ...target, labels: Array.from({ length: 10 }, (_, i) => String(i)) },
          missing: 'drop',
          normalize: 'none',
        },
        x: new Float32Array(0),
        y: Float32Array.from({ length: 62 }, (_, i) => i % 10),
        yWidth: 1,
        trainRows: 62,
        validationRows: 0,
        droppedRows: 0,
        images: { store, rowOf: Int32Array.from({ length: 62 }, (_, i) => i), shape: [20, 20, 3], augment: null },
      };
      try {
        await expect(
          trainModel({
            model,
            spec,
            data,
            training,
            hooks: { shouldStop: () => false, onEpoch: async () => undefined },
          }),
        ).rejects.toThrow(/decoding a batch of .*digits\.zip failed: notes\/readme\.png: /);
      } finally {
        model.dispose();
        await store.close();
      }
    },
  );

  it('fails every read after a decoding thread dies, saying which thread stopped', async () => {
    const crashing = join(dir, 'crashing.worker.mjs');
    writeFileSync(
      crashing,
      "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => " +
        'process.exit(3));\nparentPort.postMessage({ ready: true });\n',
    );
    const store = await DiskImageStore.open(archive, files, shape, { threads: 2, workerUrl: pathToFileURL(crashing) });
    try {
      await expect(store.read([0, 1, 2, 3])).rejects.toThrow(/image decoding thread [12] of 2 stopped \(exit code 3\)/);
      await expect(store.read([0])).rejects.toThrow(/stopped \(exit code 3\)/);
    } finally {
      await store.close();
    }
  });

  it('refuses to open when a decoding thread cannot start, and leaves no thread behind', async () => {
    await expect(
      DiskImageStore.open(join(dir, 'missing.zip'), files, shape, { threads: 2, workerUrl }),
    ).rejects.toThrow(/starting the image decoding threads for .*missing\.zip failed: .*ENOENT/);
  });
});
