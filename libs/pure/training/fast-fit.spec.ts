import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastFit } from './fast-fit.js';

function makeModel(seed: number): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dropout({ rate: 0.1, seed }),
      tf.layers.dense({
        units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
        kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

function data(): { x: tf.Tensor2D; y: tf.Tensor1D } {
  // Three linearly separable blobs.
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let i = 0; i < 90; i++) {
    const c = i % 3;
    xs.push([c + Math.sin(i) * 0.2, -c + Math.cos(i) * 0.2, c * 0.5, 1]);
    ys.push(c);
  }
  return { x: tf.tensor2d(xs), y: tf.tensor1d(ys) };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('fastFit', () => {
  it('trains a compiled Sequential model: loss decreases, history per epoch, no tensor leaks', async () => {
    const { x, y } = data();
    const model = makeModel(1);
    const seen: number[] = [];
    const before = tf.memory().numTensors;
    await fastFit(model, x, y, { epochs: 1, batchSize: 16, seed: 3 }); // creates optimizer slots
    const afterWarmup = tf.memory().numTensors;
    const h = await fastFit(model, x, y, {
      epochs: 8, batchSize: 16, seed: 3, onEpochEnd: (e, logs) => void seen.push(logs.loss),
    });
    expect(tf.memory().numTensors).toBe(afterWarmup);
    expect(afterWarmup).toBeGreaterThan(before);
    expect(h.epoch).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(h.history.loss).toEqual(seen);
    expect(h.history.loss[7]).toBeLessThan(h.history.loss[0]);
    // Same loss as model.evaluate ballpark (finite, positive).
    for (const l of h.history.loss) expect(Number.isFinite(l) && l > 0).toBe(true);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('matches model.fit without shuffle on a deterministic model (same updates, same epoch loss)', async () => {
    const { x, y } = data();
    const a = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) })],
    });
    const b = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) })],
    });
    a.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    b.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    const ha = await a.fit(x, y, { epochs: 3, batchSize: 32, shuffle: false, verbose: 0 });
    const hb = await fastFit(b, x, y, { epochs: 3, batchSize: 32, shuffle: false });
    for (let e = 0; e < 3; e++) expect(hb.history.loss[e]).toBeCloseTo(ha.history.loss[e] as number, 5);
    const wa = await a.getWeights()[0].data();
    const wb = await b.getWeights()[0].data();
    for (let i = 0; i < wa.length; i++) expect(wb[i]).toBeCloseTo(wa[i], 5);
    a.dispose();
    b.dispose();
    tf.dispose([x, y]);
  });

  it('is reproducible with a seed and honours model.stopTraining', async () => {
    const { x, y } = data();
    const run = async () => {
      const m = makeModel(5);
      const h = await fastFit(m, x, y, {
        epochs: 5, batchSize: 10, seed: 42,
        onEpochEnd: (e) => {
          if (e === 2) m.stopTraining = true;
        },
      });
      m.dispose();
      return h;
    };
    const h1 = await run();
    const h2 = await run();
    expect(h1.epoch).toEqual([0, 1, 2]);
    expect(h1.history.loss).toEqual(h2.history.loss);
    tf.dispose([x, y]);
  });

  it('rejects an uncompiled model', async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    await expect(fastFit(m, tf.zeros([2, 2]), tf.zeros([2, 1]))).rejects.toThrow(/compiled/);
    m.dispose();
  });
});
