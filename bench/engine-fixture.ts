/**
 * The engine benchmarks' shared setup (bench:train --fit engine and bench:profile): synthetic data of MNIST
 * shape and the same three models, built and configured exactly as a worker would from a spec.
 */
import type * as tf from '@tensorflow/tfjs';
import { buildModel } from '../libs/training/src/model-builder.js';
import { resolveModelSpec, type ModelSpec } from '../libs/training/src/model-spec.js';
import type { PreparedData } from '../libs/training/src/preprocessing.js';
import { resolveTrainingConfig, type TrainingConfig } from '../libs/training/src/training-config.js';

export type EngineModelName = 'mlp' | 'cnn' | 'lstm';

export const ENGINE_BATCH: Record<EngineModelName, number> = { mlp: 128, cnn: 64, lstm: 64 };

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
};

export interface EngineRun {
  model: tf.LayersModel;
  spec: ModelSpec;
  data: PreparedData;
  training: TrainingConfig;
}

/** `samples` seeded uniform [0,1) rows of 784 with 10 random classes, Adam 1e-3, one warm-up + `epochs` epochs. */
export function engineRun(
  name: EngineModelName, samples: number, epochs: number, batchSize = ENGINE_BATCH[name],
): EngineRun {
  const x = new Float32Array(samples * 784);
  const y = new Float32Array(samples);
  let state = 12345;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < x.length; i++) x[i] = random();
  for (let i = 0; i < samples; i++) y[i] = Math.floor(random() * 10);
  const labels = Array.from({ length: 10 }, (_, i) => i);
  const data: PreparedData = {
    preprocessing: { version: 1, features: [], inputSize: 784, target: { name: 'label', task: 'classification', encoding: 'sparse', sourceType: 'NUMBER', labels }, missing: 'drop', normalize: 'none' },
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
  return { model: buildModel(spec, 784, 10), spec, data, training };
}
