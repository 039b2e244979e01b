import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mulberry32 } from '#libs/pure/random';

import { irisCsv, mnistCsv } from './support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP, START_RUN } from './support/graphql.js';
import { TestStack } from './support/stack.js';

/** A seeded normal generator for the synthetic datasets (Box–Muller over mulberry32). */
function gaussian(seed: number): () => number {
  const random = mulberry32(seed);
  // In (0, 1]: the log below never sees 0.
  const uniform = () => (random() * 4294967296 + 1) / 4294967297;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** 10 numbers per row; the label says whether their sum is positive. */
function sequenceCsv(rows: number): string {
  const normal = gaussian(7);
  const lines = [[...Array.from({ length: 10 }, (_, i) => `x${i}`), 'sign'].join(',')];
  for (let i = 0; i < rows; i++) {
    const xs = Array.from({ length: 10 }, normal);
    lines.push([...xs.map((v) => v.toFixed(4)), xs.reduce((a, b) => a + b) > 0 ? 'pos' : 'neg'].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** y = 3a − 2b + 0.5c + noise, unnormalised target. */
function regressionRows(rows: number): number[][] {
  const normal = gaussian(3);
  return Array.from({ length: rows }, () => {
    const [a, b, c] = [normal(), normal(), normal()];
    return [a, b, c, 3 * a - 2 * b + 0.5 * c + 0.1 * normal()];
  });
}

function huber(error: number, delta = 1): number {
  const abs = Math.abs(error);
  return abs <= delta ? 0.5 * error * error : delta * (abs - 0.5 * delta);
}

describe('training engine over HTTP: CNN, LSTM, regularised regression, seeded reproducibility (wasm)', () => {
  const stack = new TestStack();

  beforeAll(async () => {
    await stack.start();
  });
  afterAll(() => stack.stop());

  async function upload(csv: string, name: string): Promise<string> {
    const { status, body } = await stack.upload(csv, `${name}.csv`, { name });
    expect(status).toBe(201);
    expect(body.status).toBe('READY');
    return body.id;
  }

  async function train(
    datasetId: string,
    name: string,
    spec: unknown,
    training: Record<string, unknown>,
    hyperparameters?: Record<string, unknown>,
  ) {
    const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name, spec } });
    const { startRun } = await stack.gqlOk(START_RUN, {
      input: { datasetId, modelId: createModel.id, training, hyperparameters },
    });
    const run = await stack.waitForRun(startRun.id, ['SUCCEEDED', 'FAILED', 'CANCELLED'], 120_000);
    expect(run.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.device).toBe('wasm');
    return run;
  }

  it('a CNN with a reshape layer reaches val_accuracy ≥ 0.95 on 5,000 real MNIST digits', async () => {
    const datasetId = await upload(mnistCsv(5000), 'mnist-5000');
    const spec = {
      layers: [
        { type: 'reshape', targetShape: [28, 28, 1] },
        { type: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
      loss: 'sparseCategoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.003 },
      metrics: ['accuracy', 'f1'],
    };
    const run = await train(datasetId, 'mnist-cnn', spec, {
      target: 'label',
      epochs: 8,
      batchSize: 32,
      normalize: 'none',
      seed: 1,
      lrSchedule: { type: 'cosine', warmupSteps: 20 },
      checkpoint: { every: 4, keep: 1 },
    });
    expect(run.epochsCompleted).toBe(8);
    expect(run.summary.val_accuracy).toBeGreaterThanOrEqual(0.95);
    expect(run.summary.val_f1).toBeGreaterThanOrEqual(0.9);
    expect(run.summary.lr).toBeLessThan(0.0001);
  });

  it('an LSTM over 10 numbers reshaped to [10, 1] learns the sign of their sum to val_accuracy ≥ 0.9', async () => {
    const datasetId = await upload(sequenceCsv(1200), 'sequences');
    const spec = {
      layers: [
        { type: 'reshape', targetShape: [10, 1] },
        { type: 'lstm', units: 16 },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
      loss: 'sparseCategoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.01 },
      metrics: ['accuracy'],
    };
    const run = await train(datasetId, 'seq-lstm', spec, { target: 'sign', epochs: 6, batchSize: 32, seed: 2 });
    expect(run.epochsCompleted).toBe(6);
    expect(run.summary.val_accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it(
    'a huberLoss regression with an L2 kernel regularizer ' + 'converges well below the predict-the-mean baseline',
    async () => {
      const rows = regressionRows(600);
      const datasetId = await upload(
        `a,b,c,y\n${rows.map((row) => row.map((v) => v.toFixed(5)).join(',')).join('\n')}\n`,
        'regression',
      );
      const mean = rows.reduce((sum, row) => sum + row[3], 0) / rows.length;
      const baseline = rows.reduce((sum, row) => sum + huber(row[3] - mean), 0) / rows.length;
      const spec = {
        layers: [
          { type: 'dense', units: 16, activation: 'relu', kernelRegularizer: { l2: 0.001 } },
          { type: 'dense', units: 1 },
        ],
        loss: 'huberLoss',
        optimizer: { type: 'adam', learningRate: 0.02 },
        metrics: ['mae'],
      };
      const run = await train(datasetId, 'regression', spec, {
        target: 'y',
        epochs: 30,
        batchSize: 32,
        seed: 3,
        checkpoint: { every: 10 },
      });
      expect(baseline).toBeGreaterThan(1);
      expect(run.summary.val_loss).toBeLessThan(0.05 * baseline);
      expect(run.summary.val_mae).toBeLessThan(0.5);
      // The training loss carries the L2 penalty on top of the data loss.
      expect(run.summary.loss).toBeGreaterThan(0);
    },
  );

  it('a seeded run started twice gives the same summary to 1e-5', async () => {
    const datasetId = await upload(irisCsv(), 'iris');
    const training = { target: 'Species', epochs: 12, batchSize: 16, seed: 11 };
    const first = await train(datasetId, 'iris-a', IRIS_MLP, training, { hidden: 16, lr: 0.02 });
    const second = await train(datasetId, 'iris-b', IRIS_MLP, training, { hidden: 16, lr: 0.02 });
    expect(Object.keys(second.summary).sort()).toEqual(Object.keys(first.summary).sort());
    for (const [name, value] of Object.entries(first.summary as Record<string, number>)) {
      expect(Math.abs(second.summary[name] - value), name).toBeLessThanOrEqual(1e-5);
    }
  });
});
