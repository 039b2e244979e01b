/**
 * The engine benchmarks' shared setup (bench:train --fit engine and bench:profile): synthetic data of MNIST
 * shape and the same three models, built and configured exactly as a worker would from a spec.
 */
import * as tf from '@tensorflow/tfjs';

import { mulberry32 } from '#libs/pure/random';

import { type EngineRun, labelledData, specRun, trainToEnd } from '../test/support/engine.js';
import { MNIST_CNN_LAYERS } from '../test/support/graphql.js';

export type { EngineRun };

export type EngineModelName = 'mlp' | 'cnn' | 'lstm' | 'transformer';

export const ENGINE_BATCH: Record<EngineModelName, number> = { mlp: 128, cnn: 64, lstm: 64, transformer: 64 };

/** The transformer's input: 64 token ids per sample from a vocabulary of 1000 (no padding, so no mask). */
export const TRANSFORMER_SEQUENCE = 64;
export const TRANSFORMER_VOCABULARY = 1000;
const INPUT_SIZE: Record<EngineModelName, number> = {
  mlp: 784,
  cnn: 784,
  lstm: 784,
  transformer: TRANSFORMER_SEQUENCE,
};

export const ENGINE_SPECS: Record<EngineModelName, unknown[]> = {
  mlp: [
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  cnn: [{ type: 'reshape', targetShape: [28, 28, 1] }, ...MNIST_CNN_LAYERS],
  // Not in bench:train's default set: an RNN for reference (the 784 inputs as 49 steps of 16).
  lstm: [
    { type: 'reshape', targetShape: [49, 16] },
    { type: 'lstm', units: 32 },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  // Not in the default set: a 2-layer Transformer encoder (d=64, 4 heads, ff 128, post-norm, dropout 0.1), mean pool.
  transformer: [
    {
      type: 'tokenAndPositionEmbedding',
      vocabularySize: TRANSFORMER_VOCABULARY,
      sequenceLength: TRANSFORMER_SEQUENCE,
      embeddingDim: 64,
    },
    { type: 'transformerEncoder', numHeads: 4, intermediateDim: 128, dropout: 0.1 },
    { type: 'transformerEncoder', numHeads: 4, intermediateDim: 128, dropout: 0.1 },
    { type: 'globalAveragePooling1d' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

/** The raw spec of a bench model, as a client would send it: Adam 1e-3, sparse cross-entropy, accuracy. */
export function engineSpec(name: EngineModelName): object {
  return {
    layers: ENGINE_SPECS[name],
    loss: 'sparseCategoricalCrossentropy',
    optimizer: { type: 'adam', learningRate: 1e-3 },
    metrics: ['accuracy'],
  };
}

/**
 * `samples` seeded uniform [0,1) rows of 784 (the transformer: 64 token ids in [1, 1000)) with 10 random classes,
 * Adam 1e-3, one warm-up + `epochs` epochs; `batchSize` defaults to the model's ENGINE_BATCH.
 */
export function engineRun(
  name: EngineModelName,
  samples: number,
  epochs: number,
  batchSize = ENGINE_BATCH[name],
): EngineRun {
  const inputSize = INPUT_SIZE[name];
  const x = new Float32Array(samples * inputSize);
  const y = new Float32Array(samples);
  const random = mulberry32(12345);
  const tokens = name === 'transformer';
  for (let i = 0; i < x.length; i++) x[i] = tokens ? 1 + Math.floor(random() * (TRANSFORMER_VOCABULARY - 1)) : random();
  for (let i = 0; i < samples; i++) y[i] = Math.floor(random() * 10);
  return specRun(engineSpec(name), labelledData(x, y, { inputSize, classes: 10 }), {
    epochs: 1 + epochs,
    batchSize,
    validationSplit: 0,
    seed: 1,
    checkpoint: { every: 1_000_000, keep: 1, monitor: 'loss', mode: 'min' },
  });
}

export interface TimedRun {
  samplesPerSec: number;
  /** The last epoch's training loss. */
  loss: number;
}

/**
 * Trains a run as a worker does and times the epochs after the first (the warm-up): samples per second over them.
 * `warmedUp` is called when the warm-up epoch has been reported (to start counters).
 */
export async function timedEngineRun(run: EngineRun, warmedUp: () => void = () => undefined): Promise<TimedRun> {
  let warmedUpAt = 0;
  let finishedAt = 0;
  const result = await trainToEnd(run, (report) => {
    if (report.epoch === 1) {
      warmedUp();
      warmedUpAt = performance.now();
    }
    finishedAt = performance.now();
  });
  const timedSamples = run.data.trainRows * (result.epochsCompleted - 1);
  return { samplesPerSec: timedSamples / ((finishedAt - warmedUpAt) / 1000), loss: result.summary.loss };
}

/**
 * The same run through TF.js's own LayersModel.fit (shuffled, batch size from the run): the library's loop, for
 * comparison with the engine's. One warm-up epoch, then the rest timed.
 */
export async function timedModelFit(run: EngineRun, warmedUp: () => void = () => undefined): Promise<TimedRun> {
  const { data, training, model } = run;
  const rows = data.trainRows;
  const { inputSize, inputShape } = data.preprocessing;
  const x = tf.tensor(data.x.subarray(0, rows * inputSize), [rows, ...(inputShape ?? [inputSize])]);
  const y = tf.tensor2d(data.y.subarray(0, rows * data.yWidth), [rows, data.yWidth]);
  try {
    await model.fit(x, y, { epochs: 1, batchSize: training.batchSize, shuffle: true, verbose: 0 });
    warmedUp();
    const started = performance.now();
    const epochs = training.epochs - 1;
    const history = await model.fit(x, y, { epochs, batchSize: training.batchSize, shuffle: true, verbose: 0 });
    const samplesPerSec = (rows * epochs) / ((performance.now() - started) / 1000);
    return { samplesPerSec, loss: history.history.loss.at(-1) as number };
  } finally {
    tf.dispose([x, y]);
  }
}
