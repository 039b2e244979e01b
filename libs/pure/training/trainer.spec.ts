import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { analyzeDataset, readDatasetRows } from '#libs/pure/data';

import { irisCsv, writeTemp } from '../../../test/support/fixtures.js';
import { selectBackend } from './backend.js';
import { buildModel } from './model-builder.js';
import { resolveModelSpec } from './model-spec.js';
import { expectedOutputUnits, prepareData } from './preprocessing.js';
import { type EpochReport, type TrainerHooks, trainModel } from './trainer.js';
import { resolveTrainingConfig } from './training-config.js';

describe('trainModel', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  /** Iris from its CSV through analysis and preparation, as a run gets it, and a model of `layers` built for it. */
  async function irisSetup(layers: unknown[], training: { epochs: number; seed: number }) {
    const path = writeTemp('iris.csv', irisCsv());
    const analysis = await analyzeDataset(path, 'csv');
    const rows = [];
    for await (const row of readDatasetRows(path, 'csv')) rows.push(row.cells);
    const optimizer = { type: 'adam', learningRate: 0.02 };
    const loss = 'sparseCategoricalCrossentropy';
    const spec = resolveModelSpec({ layers, loss, optimizer, metrics: ['accuracy', 'f1'] }, {});
    const config = resolveTrainingConfig({ target: 'Species', batchSize: 16, ...training }, analysis.columns, 1);
    const data = prepareData(rows, analysis.columns, config, spec.loss);
    const model = buildModel(spec, data.preprocessing.inputSize, expectedOutputUnits(data.preprocessing));
    return { model, spec, data, training: config };
  }

  it('trains an MLP on Iris to val_accuracy ≥ 0.9 without leaking tensors between epochs', async () => {
    const layers = [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ];
    const { model, spec, data, training } = await irisSetup(layers, { epochs: 40, seed: 3 });
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
    expect(Object.keys(reports[0].metrics).sort()).toEqual([
      'accuracy',
      'f1',
      'loss',
      'lr',
      'val_accuracy',
      'val_f1',
      'val_loss',
    ]);
    expect(result.summary.val_accuracy).toBeGreaterThanOrEqual(0.9);
    expect(tensorsAt[39]).toBe(tensorsAt[5]);
    model.dispose();
  });

  async function irisRun(seed: number, hooks: Partial<TrainerHooks> = {}, epochs = 6) {
    const layers = [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 3, activation: 'softmax' },
    ];
    const { model, spec, data, training } = await irisSetup(layers, { epochs, seed });
    const reports: EpochReport[] = [];
    const result = await trainModel({
      model,
      spec,
      data,
      training,
      hooks: { onEpoch: async (report) => void reports.push(report), shouldStop: () => false, ...hooks },
    });
    const weights = model.getWeights().map((tensor) => Array.from(tensor.dataSync()));
    model.dispose();
    return { reports, weights, result };
  }

  it(
    'is reproducible with training.seed: same metrics and ' + 'weights for the same seed, different for another',
    async () => {
      const a = await irisRun(21);
      const b = await irisRun(21);
      const c = await irisRun(22);
      expect(a.reports).toHaveLength(6);
      a.reports.forEach((report, index) => {
        for (const [name, value] of Object.entries(report.metrics))
          expect(Math.abs(b.reports[index].metrics[name] - value), name).toBeLessThanOrEqual(1e-5);
      });
      a.weights.forEach((values, i) =>
        values.forEach((value, j) => expect(Math.abs(b.weights[i][j] - value)).toBeLessThanOrEqual(1e-5)),
      );
      expect(c.reports[0].metrics.loss).not.toBeCloseTo(a.reports[0].metrics.loss, 5);
      expect(c.weights[0]).not.toEqual(a.weights[0]);
    },
  );

  it('stops between batches: the partial epoch goes to onInterrupted, not onEpoch', async () => {
    let batches = 0;
    const interrupted: { lastCompletedEpoch: number; batchesIntoEpoch: number }[] = [];
    // 120 training rows, batch 16: 8 batches an epoch, and one more look at the epoch's end; stop before the 3rd batch
    // of epoch 2.
    const { reports, result } = await irisRun(4, {
      shouldStop: () => ++batches > 9 + 2,
      onInterrupted: async ({ lastCompletedEpoch, batchesIntoEpoch, checkpoint }) => {
        expect(checkpoint.weights.byteLength).toBeGreaterThan(0);
        interrupted.push({ lastCompletedEpoch, batchesIntoEpoch });
      },
    });
    expect(reports.map((r) => r.epoch)).toEqual([1]);
    expect(interrupted).toEqual([{ lastCompletedEpoch: 1, batchesIntoEpoch: 2 }]);
    expect(result).toMatchObject({ epochsCompleted: 1, interrupted: true, stopReason: 'stopped' });
  });
});
