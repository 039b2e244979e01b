/**
 * What the dashboard's editors start from: an MLP whose width and learning rate are hyperparameters, and a search
 * space over those two. The dashboard test makes its model from the same spec, so the two cannot drift apart.
 */
export const EXAMPLE_SPEC = {
  layers: [
    { type: 'dense', units: '$hidden', activation: 'relu' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'sparseCategoricalCrossentropy',
  optimizer: { type: 'adam', learningRate: '$lr' },
  metrics: ['accuracy'],
};

export const EXAMPLE_SPACE = {
  lr: { type: 'loguniform', min: 0.001, max: 0.1 },
  hidden: { type: 'int', min: 4, max: 64, step: 4 },
};
