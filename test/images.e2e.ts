import { readdirSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CREATE_MODEL, MNIST_CNN as CNN, START_RUN } from './support/graphql.js';
import { mnistPngs, renameEntry, zipOf } from './support/image-zips.js';
import { TestStack } from './support/stack.js';

const PREDICT = `query($runId: ID!, $rows: [JSON!]!) { predict(runId: $runId, rows: $rows) }`;
const DIGITS = 3000;
/** Small enough that a 30 MB bomb passes it, large enough for the digits. */
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

describe('image ZIP datasets: upload, CNN training, predict on base64 PNGs (real MNIST digits)', () => {
  const stack = new TestStack({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) });
  const digits = mnistPngs(DIGITS, 20);
  let datasetId: string;
  let runId: string;

  beforeAll(async () => {
    await stack.start();
  });
  afterAll(() => stack.stop());

  it('uploads a ZIP of class folders: counts, classes and a warning for each skipped file', async () => {
    const entries = digits.training.map((digit, index) => ({
      name: `digits/${digit.label}/${index}.png`,
      data: digit.png,
    }));
    // A PNG whose data is cut short, and a text file: both skipped and named.
    entries.push({ name: 'digits/7/broken.png', data: digits.training[0].png.subarray(0, 60) });
    entries.push({ name: 'digits/README.txt', data: Buffer.from('handwritten digits, one folder per class\n') });
    const { status, body } = await stack.upload(await zipOf(entries), 'digits.zip');
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body.format).toBe('images');
    expect(body.rowCount).toBe(DIGITS);
    const byName = Object.fromEntries(body.columns.map((column: { name: string }) => [column.name, column]));
    expect(byName.image).toMatchObject({ type: 'IMAGE', missing: 0, distinct: DIGITS });
    expect(byName.label).toMatchObject({ type: 'STRING', missing: 0, distinct: 10 });
    expect(body.warnings).toHaveLength(2);
    expect(body.warnings.find((w: string) => w.startsWith('digits/7/broken.png'))).toMatch(/does not decode/);
    expect(body.warnings.find((w: string) => w.startsWith('digits/README.txt'))).toMatch(/not an image/);
    const { dataset } = await stack.gqlOk(
      `query($id: ID!) { dataset(id: $id) { rowCount warnings columns { name type distinct } } }`,
      { id: body.id },
    );
    expect(dataset.warnings).toEqual(body.warnings);
    datasetId = body.id;
  });

  const TRAINING = {
    target: 'label',
    epochs: 6,
    batchSize: 32,
    seed: 3,
    image: { width: 28, height: 28, channels: 1, augment: { rotate: 5, translate: 0.05 } },
  };
  let cnnSummary: Record<string, number>;

  it('trains a small CNN on 28×28 gray images to val_accuracy ≥ 0.95', async () => {
    const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'digits-cnn', spec: CNN } });
    const { startRun } = await stack.gqlOk(START_RUN, {
      input: { datasetId, modelId: createModel.id, training: TRAINING },
    });
    const run = await stack.waitForRun(startRun.id, ['SUCCEEDED', 'FAILED', 'CANCELLED'], 240_000);
    runId = run.id;
    expect(run.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.summary.val_accuracy).toBeGreaterThanOrEqual(0.95);
    cnnSummary = run.summary;
    expect(stack.logs()).toMatch(/decoded 3000 images to 28×28×1/);
  });

  it(
    'trains the same from disk, batch by batch on a decoding ' + 'thread, when the images exceed TRAINING_CACHE_MB',
    async () => {
      // 3,000 × 28 × 28 bytes is 2.2 MiB: over a 1 MiB cache. The same seed must give the same run as the in-memory
      // one.
      await stack.stopWorker(stack.workers[0]);
      const worker = await stack.startWorker({ TRAINING_CACHE_MB: '1' });
      const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'digits-cnn-disk', spec: CNN } });
      const { startRun } = await stack.gqlOk(START_RUN, {
        input: { datasetId, modelId: createModel.id, training: TRAINING },
      });
      const run = await stack.waitForRun(startRun.id, ['SUCCEEDED', 'FAILED', 'CANCELLED'], 240_000);
      expect(run.error).toBeNull();
      expect(worker.output.join('')).toMatch(/exceed TRAINING_CACHE_MB=1: reading batches from disk/);
      expect(run.summary.val_accuracy).toBeCloseTo(cnnSummary.val_accuracy, 6);
      expect(run.summary.loss).toBeCloseTo(cnnSummary.loss, 5);
    },
  );

  it('predicts digits sent as base64 PNGs and data: URLs, and the served checkpoint agrees', async () => {
    const rows = digits.test.map((digit, index) => ({
      image: index % 2 ? digit.png.toString('base64') : `data:image/png;base64,${digit.png.toString('base64')}`,
    }));
    const { predict } = await stack.gqlOk(PREDICT, { runId, rows });
    const correct = predict.filter(
      (p: { prediction: string }, index: number) => p.prediction === String(digits.test[index].label),
    ).length;
    expect(correct).toBeGreaterThanOrEqual(17);

    const { run } = await stack.gqlOk(`query($id: ID!) { run(id: $id) { bestCheckpoint { modelUrl } } }`, {
      id: runId,
    });
    const url = `${stack.url}${run.bestCheckpoint.modelUrl}`;
    const modelJson = await (await fetch(url)).json();
    const preprocessing = modelJson.userDefinedMetadata.preprocessing;
    expect(preprocessing.inputShape).toEqual([28, 28, 1]);
    expect(preprocessing.features).toEqual([{ name: 'image', kind: 'image', width: 28, height: 28, channels: 1 }]);
    const model = await tf.loadLayersModel(url);
    // The same steps by hand: decode, (no resize at 28×28), scale to [0, 1].
    const input = digits.test.map((digit) => {
      const png = PNG.sync.read(digit.png);
      return Array.from({ length: 28 }, (_, y) =>
        Array.from({ length: 28 }, (_, x) => [png.data[(y * 28 + x) * 4] / 255]),
      );
    });
    const probabilities = (model.predict(tf.tensor4d(input)) as tf.Tensor2D).arraySync();
    probabilities.forEach((row, index) => {
      preprocessing.target.labels.forEach((label: string, c: number) =>
        expect(predict[index].probabilities[label]).toBeCloseTo(row[c], 4),
      );
    });
  });

  it('sweeps over augmentation unchanged: "$rotate" in training.image.augment.rotate', async () => {
    const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'digits-sweep', spec: CNN } });
    const input = {
      name: 'augment-sweep',
      datasetId,
      modelId: createModel.id,
      strategy: 'RANDOM',
      searchSpace: { rotate: { type: 'choice', values: [0, 10] } },
      objective: { metric: 'val_accuracy', goal: 'MAXIMIZE' },
      maxTrials: 2,
      parallelism: 1,
      training: { ...TRAINING, epochs: 1, image: { ...TRAINING.image, augment: { rotate: '$rotate' } } },
      seed: 2,
    };
    const { createSweep } = await stack.gqlOk(
      `mutation($input: CreateSweepInput!) { createSweep(input: $input) { id } }`,
      { input },
    );
    const deadline = Date.now() + 180_000;
    let sweep: Record<string, any>;
    for (;;) {
      ({ sweep } = await stack.gqlOk(
        `query($id: ID!) { sweep(id: $id) { status error runs { status error hyperparameters training summary } } }`,
        { id: createSweep.id },
      ));
      if (sweep.status !== 'RUNNING' || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(sweep.error).toBeNull();
    expect(sweep.status).toBe('SUCCEEDED');
    expect(sweep.runs).toHaveLength(2);
    for (const run of sweep.runs) {
      expect(run.error).toBeNull();
      expect(run.training.image.augment.rotate).toBe(run.hyperparameters.rotate);
      expect(run.summary.val_accuracy).toBeGreaterThan(0.5);
    }
  });

  it('refuses a predict image that is not an image, naming the row', async () => {
    const bad = await stack.gql(PREDICT, {
      runId,
      rows: [{ image: Buffer.from('just some words').toString('base64') }],
    });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0].message).toMatch(/rows\[0\]\.image is not a usable image: not a PNG or JPEG/);
  });

  it('refuses an images dataset trained with training.text', async () => {
    const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'digits-text', spec: CNN } });
    const before = await stack.counts();
    const response = await stack.gql(START_RUN, {
      input: {
        datasetId,
        modelId: createModel.id,
        training: {
          target: 'label',
          text: { tokenize: 'word', sequenceLength: 8 },
          image: { width: 28, height: 28, channels: 1 },
        },
      },
    });
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/training\.text: this is an images dataset/);
    expect(await stack.counts()).toEqual(before);
  });

  describe('hostile and empty archives are refused with 400, leaving nothing behind', () => {
    const png = () => digits.training[0].png;
    const cases: [string, () => Promise<Buffer>, RegExp][] = [
      [
        'zip slip (..)',
        async () =>
          renameEntry(
            await zipOf([
              { name: 'aa/evil.png', data: png() },
              { name: 'x/1/a.png', data: png() },
            ]),
            'aa/evil.png',
            '../evil.png',
          ),
        /"\.\.\/evil\.png" escapes the archive/,
      ],
      [
        'an absolute path',
        async () =>
          renameEntry(await zipOf([{ name: 'xetc/evil.png', data: png() }]), 'xetc/evil.png', '/etc/evil.png'),
        /"\/etc\/evil\.png" has an absolute path/,
      ],
      [
        'a symlink entry',
        () =>
          zipOf([
            { name: 'x/1/a.png', data: png() },
            { name: 'x/1/link.png', data: Buffer.from('/etc/passwd'), mode: 0o120777 },
          ]),
        /"x\/1\/link\.png" is a symbolic link/,
      ],
      [
        'a ZIP bomb',
        () => zipOf([{ name: 'x/1/bomb.png', data: Buffer.alloc(MAX_UPLOAD_BYTES + 1024 * 1024) }]),
        /unpacks to more than MAX_UPLOAD_BYTES/,
      ],
      [
        'no images',
        () => zipOf([{ name: 'notes/a.txt', data: Buffer.from('hello') }]),
        /holds no usable PNG or JPEG images; skipped: notes\/a\.txt: skipped, not an image/,
      ],
    ];
    for (const [what, build, message] of cases) {
      it(what, async () => {
        const before = await stack.counts();
        const { status, body } = await stack.upload(await build(), 'hostile.zip');
        expect(status, JSON.stringify(body)).toBe(400);
        expect(body.message).toMatch(message);
        expect(await stack.counts()).toEqual(before);
        expect(readdirSync(`${stack.dataDir}/uploads`)).toEqual([]);
        expect(readdirSync(`${stack.dataDir}/datasets`)).toEqual([datasetId]);
      });
    }
  });
});
