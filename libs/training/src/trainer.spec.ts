import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeDataset, readDatasetRows } from '../../datasets/src/index.js';
import { irisCsv, writeTemp } from '../../../test/support/fixtures.js';
import { selectBackend } from './backend.js';
import { buildModel } from './model-builder.js';
import { resolveModelSpec } from './model-spec.js';
import { expectedOutputUnits, prepareData } from './preprocessing.js';
import { type EpochReport, trainModel } from './trainer.js';
import { resolveTrainingConfig } from './training-config.js';

describe('trainModel', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('trains an MLP on Iris to val_accuracy ≥ 0.9 without leaking tensors between epochs', async () => {
    const path = writeTemp('iris.csv', irisCsv());
    const analysis = await analyzeDataset(path, 'csv');
    const rows = [];
    for await (const row of readDatasetRows(path, 'csv')) rows.push(row.cells);
    const spec = resolveModelSpec(
      {
        layers: [
          { type: 'dense', units: '$hidden', activation: 'relu' },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
        loss: 'sparseCategoricalCrossentropy',
        optimizer: { type: 'adam', learningRate: 0.02 },
        metrics: ['accuracy', 'f1'],
      },
      { hidden: 16 },
    );
    const training = resolveTrainingConfig({ target: 'Species', epochs: 40, batchSize: 16, seed: 3 }, analysis.columns, 1);
    const data = prepareData(rows, analysis.columns, training, spec.loss);
    const model = buildModel(spec, data.preprocessing.inputSize, expectedOutputUnits(data.preprocessing));
    const reports: EpochReport[] = [];
    const tensorsAt: number[] = [];
    const result = await trainModel({
      model,
      spec,
      data,
      training,
      hooks: {
        onEpoch: async (report) => {
          reports.push(report);
          tensorsAt.push(tf.memory().numTensors);
        },
        shouldStop: () => false,
      },
    });
    expect(result.epochsCompleted).toBe(40);
    expect(reports.map((r) => r.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(Object.keys(reports[0].metrics).sort()).toEqual(['accuracy', 'f1', 'loss', 'lr', 'val_accuracy', 'val_f1', 'val_loss']);
    expect(result.summary.val_accuracy).toBeGreaterThanOrEqual(0.9);
    expect(tensorsAt[39]).toBe(tensorsAt[5]);
    model.dispose();
  });
});
