import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { digitImageData } from '../../../../test/support/engine.js';
import { mnistPngs } from '../../../../test/support/image-zips.js';
import { selectBackend } from '../backend.js';
import { buildModel } from '../model-builder.js';
import { resolveModelSpec } from '../model-spec.js';
import { trainModel } from '../trainer.js';
import { resolveTrainingConfig } from '../training-config.js';
import { scalePixels } from './augment.js';
import { MemoryImageStore } from './image-store.js';

const ROWS = 200;
const VALIDATION = 70; // not a multiple of the batch: the last validation batch is short

describe('an images run validates batch by batch from its store', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('reports the validation loss, accuracy and scores that model.evaluate gives on the whole set', async () => {
    const digits = mnistPngs(ROWS).training;
    const pixels = new Uint8Array(ROWS * 784);
    digits.forEach((digit, i) => pixels.set(digit.pixels, i * 784));
    const columns = [
      { name: 'image', type: 'IMAGE' as const, missing: 0, distinct: ROWS, min: null, max: null, mean: null },
      { name: 'label', type: 'STRING' as const, missing: 0, distinct: 10, min: null, max: null, mean: null },
    ];
    const training = resolveTrainingConfig(
      {
        target: 'label',
        epochs: 1,
        batchSize: 32,
        seed: 3,
        image: { width: 28, height: 28, channels: 1 },
        checkpoint: { every: 1_000_000 },
      },
      columns,
      1,
    );
    const spec = resolveModelSpec(
      {
        layers: [
          { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
          { type: 'flatten' },
          { type: 'dense', units: 10, activation: 'softmax' },
        ],
        loss: 'sparseCategoricalCrossentropy',
        optimizer: { type: 'adam', learningRate: 0.01 },
        metrics: ['accuracy', 'f1'],
      },
      {},
    );
    const model = buildModel(spec, [28, 28, 1], 10);
    const data = digitImageData({
      store: new MemoryImageStore(pixels, 784),
      y: Float32Array.from(digits, (digit) => digit.label),
      trainRows: ROWS - VALIDATION,
      validationRows: VALIDATION,
      augment: null,
    });
    const result = await trainModel({
      model,
      spec,
      data,
      training,
      hooks: { shouldStop: () => false, onEpoch: async () => undefined },
    });

    // The reference: the whole validation set at once, with the weights the epoch ended with.
    const scaled = new Float32Array(VALIDATION * 784);
    scalePixels(pixels.subarray((ROWS - VALIDATION) * 784), scaled);
    const x = tf.tensor4d(scaled, [VALIDATION, 28, 28, 1]);
    const y = tf.tensor2d(data.y.subarray(ROWS - VALIDATION), [VALIDATION, 1]);
    const [loss, accuracy] = (model.evaluate(x, y, { batchSize: 32 }) as tf.Scalar[]).map(
      (value) => value.dataSync()[0],
    );
    const predicted = (model.predict(x) as tf.Tensor2D).argMax(1).dataSync();
    tf.dispose([x, y]);
    expect(result.summary.val_loss).toBeCloseTo(loss, 5);
    expect(result.summary.val_accuracy).toBeCloseTo(accuracy, 6);
    const correct = Array.from(predicted).filter((label, i) => label === data.y[ROWS - VALIDATION + i]).length;
    expect(result.summary.val_accuracy).toBeCloseTo(correct / VALIDATION, 6);
    expect(result.summary.val_f1).toBeGreaterThan(0);
    expect(result.summary.val_f1).toBeLessThanOrEqual(1);
    model.dispose();
  });
});
