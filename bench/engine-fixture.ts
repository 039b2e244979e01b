/**
 * The engine benchmarks' shared setup (bench:train --fit engine and bench:profile): synthetic data of MNIST
 * shape and the same three models, built and configured exactly as a worker would from a spec.
 */
import type * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '#libs/pure/random';
import { buildModel } from '#libs/pure/training';
import { resolveModelSpec, type ModelSpec } from '#libs/pure/training';
import type { PreparedData } from '#libs/pure/training';
import { resolveTrainingConfig, type TrainingConfig } from '#libs/pure/training';

export type EngineModelName = 'mlp' | 'cnn' | 'lstm' | 'transformer';

export const ENGINE_BATCH: Record<EngineModelName, number> = { mlp: 128, cnn: 64, lstm: 64, transformer: 64 };

/** The transformer's input: 64 token ids per sample from a vocabulary of 1000 (no padding, so no mask). */
export const TRANSFORMER_SEQUENCE = 64;
export const TRANSFORMER_VOCABULARY = 1000;
const INPUT_SIZE: Record<EngineModelName, number> = {
  mlp: 784, cnn: 784, lstm: 784, transformer: TRANSFORMER_SEQUENCE,
};

export const ENGINE_SPECS: Record<EngineModelName, unknown[]> = {
  mlp: [
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  cnn: [
    { type: 'reshape', targetShape: [28, 28, 1] },
    { type: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
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

export interface EngineRun {
  model: tf.LayersModel;
  spec: ModelSpec;
  data: PreparedData;
  training: TrainingConfig;
}

/**
 * `samples` seeded uniform [0,1) rows of 784 (the transformer: 64 token ids in [1, 1000)) with 10 random classes,
 * Adam 1e-3, one warm-up + `epochs` epochs; `batchSize` defaults to the model's ENGINE_BATCH.
 */
export function engineRun(
  name: EngineModelName, samples: number, epochs: number, batchSize = ENGINE_BATCH[name],
): EngineRun {
  const inputSize = INPUT_SIZE[name];
  const x = new Float32Array(samples * inputSize);
  const y = new Float32Array(samples);
  const random = mulberry32(12345);
  const tokens = name === 'transformer';
  for (let i = 0; i < x.length; i++) x[i] = tokens ? 1 + Math.floor(random() * (TRANSFORMER_VOCABULARY - 1)) : random();
  for (let i = 0; i < samples; i++) y[i] = Math.floor(random() * 10);
  const labels = Array.from({ length: 10 }, (_, i) => i);
  const data: PreparedData = {
    preprocessing: { version: 1, features: [], inputSize, target: { name: 'label', task: 'classification', encoding: 'sparse', sourceType: 'NUMBER', labels }, missing: 'drop', normalize: 'none' },
    x,
    y,
    yWidth: 1,
    trainRows: samples,
    validationRows: 0,
    droppedRows: 0,
  };
  const columns = [
    { name: 'pixels', type: 'NUMBER' as const, missing: 0, distinct: null, min: 0, max: 1, mean: 0.5 },
    { name: 'label', type: 'NUMBER' as const, missing: 0, distinct: 10, min: 0, max: 9, mean: 4.5 },
  ];
  const training = resolveTrainingConfig({ target: 'label', epochs: 1 + epochs, batchSize, validationSplit: 0, seed: 1, checkpoint: { every: 1_000_000 } }, columns, 1);
  const spec = resolveModelSpec({ layers: ENGINE_SPECS[name], loss: 'sparseCategoricalCrossentropy', optimizer: { type: 'adam', learningRate: 1e-3 }, metrics: ['accuracy'] }, {});
  return { model: buildModel(spec, inputSize, 10), spec, data, training };
}
