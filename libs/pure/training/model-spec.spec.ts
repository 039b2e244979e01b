import { describe, expect, it } from 'vitest';

import { collectReferences, resolveModelSpec, substituteHyperparameters, validateModelSpec } from './model-spec.js';
import { SpecError } from './validation.js';

const spec = {
  layers: [
    { type: 'dense', units: '$hidden', activation: 'relu', kernelRegularizer: { l2: 0.001 } },
    { type: 'dropout', rate: '$dropout' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'sparseCategoricalCrossentropy',
  optimizer: { type: 'adam', learningRate: '$lr' },
  metrics: ['accuracy'],
};

describe('model spec validation', () => {
  it('accepts references at createModel and checks their values at startRun', () => {
    expect(() => validateModelSpec(spec, { allowReferences: true })).not.toThrow();
    expect(() => validateModelSpec(spec, { allowReferences: false })).toThrow(
      /units must be a whole number, got "\$hidden"/,
    );
    expect(resolveModelSpec(spec, { hidden: 8, dropout: 0.2, lr: 0.01 }).layers[0].units).toBe(8);
    expect(() => resolveModelSpec(spec, { hidden: 8, dropout: 2, lr: 0.01 })).toThrow(
      'spec.layers[1] (dropout).rate must be at most 0.99, got 2',
    );
  });

  it('collects and substitutes references', () => {
    expect([...collectReferences(spec)]).toEqual(['hidden', 'dropout', 'lr']);
    expect(() => substituteHyperparameters(spec, { hidden: 1 })).toThrow(
      'spec.layers[1].rate refers to $dropout, but no hyperparameter "dropout" was given',
    );
  });

  it.each([
    [{ ...spec, layers: [{ type: 'conv9d' }] }, 'spec.layers[0].type: unknown layer type "conv9d"'],
    [{ ...spec, layers: [{ type: 'dense', units: 0 }] }, 'spec.layers[0] (dense).units must be at least 1, got 0'],
    [{ ...spec, layers: [{ type: 'dense' }] }, 'spec.layers[0] (dense).units is required'],
    [
      { ...spec, layers: [{ type: 'dense', units: 2, kernelRegularizer: { l3: 1 } }] },
      'spec.layers[0] (dense).kernelRegularizer.l3 is not a known key',
    ],
    [
      { ...spec, layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, padding: 'full' }] },
      'spec.layers[0] (conv2d).padding must be one of valid, same, causal, got "full"',
    ],
    [{ ...spec, optimizer: { type: 'adam', momentum: 0.9 } }, 'spec.optimizer.momentum is not a known key'],
    [
      { ...spec, optimizer: { type: 'sgd', learningRate: 0 } },
      'spec.optimizer.learningRate must be greater than 0, got 0',
    ],
    [{ ...spec, extra: 1 }, 'spec.extra is not a known key'],
  ])('refuses %j naming the layer and key', (bad, message) => {
    expect(() => validateModelSpec(bad, { allowReferences: true })).toThrow(SpecError);
    expect(() => validateModelSpec(bad, { allowReferences: true })).toThrow(message);
  });

  it('refuses deeply nested JSON', () => {
    let nested: unknown = 1;
    for (let i = 0; i < 20; i++) nested = { a: nested };
    expect(() =>
      validateModelSpec(
        { ...spec, layers: [{ type: 'dense', units: 3, kernelInitializer: nested }] },
        { allowReferences: true },
      ),
    ).toThrow(/nested too deeply/);
  });
});
