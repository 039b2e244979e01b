import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { buildModel } from './model-builder.js';
import { resolveModelSpec } from './model-spec.js';
import { estimateParams } from './param-estimate.js';

const specs: [string, unknown[], number, number][] = [
  [
    'mlp',
    [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'batchNormalization' }, { type: 'dense', units: 3 }],
    10,
    3,
  ],
  [
    'cnn',
    [
      { type: 'reshape', targetShape: [8, 8, 1] },
      { type: 'conv2d', filters: 4, kernelSize: 3 },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'depthwiseConv2d', kernelSize: 2, depthMultiplier: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 2 },
    ],
    64,
    2,
  ],
  [
    'rnn',
    [
      { type: 'reshape', targetShape: [6, 2] },
      { type: 'lstm', units: 5, returnSequences: true },
      { type: 'gru', units: 4 },
      { type: 'layerNormalization' },
      { type: 'dense', units: 1 },
    ],
    12,
    1,
  ],
  [
    'embedding',
    [
      { type: 'embedding', inputDim: 20, outputDim: 3, inputLength: 5 },
      { type: 'simpleRNN', units: 4 },
      { type: 'dense', units: 2 },
    ],
    5,
    2,
  ],
];

describe('estimateParams', () => {
  it.each(specs)('matches the built %s model exactly', async (_name, layers, inputSize, outputs) => {
    await tf.setBackend('cpu');
    const spec = resolveModelSpec({ layers, loss: 'meanSquaredError', optimizer: { type: 'sgd' } }, {});
    const model = buildModel(spec, inputSize, outputs);
    expect(estimateParams(spec, inputSize)).toBe(model.countParams());
    model.dispose();
  });

  it('names the layer that cannot take its input', () => {
    const spec = resolveModelSpec(
      {
        layers: [
          { type: 'conv2d', filters: 2, kernelSize: 3 },
          { type: 'dense', units: 1 },
        ],
        loss: 'meanSquaredError',
      },
      {},
    );
    expect(() => estimateParams(spec, 10)).toThrow(
      /spec\.layers\[0\] \(conv2d\) cannot take an input of shape \[batch, 10\]/,
    );
  });
});
