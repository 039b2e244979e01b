export const RUN_FIELDS =
  'id status attempt epochsCompleted summary device error hyperparameters training createdAt startedAt finishedAt';

export const CREATE_MODEL =
  'mutation($input: CreateModelInput!) { createModel(input: $input) { id name version spec } }';
export const START_RUN = `mutation($input: StartRunInput!) { startRun(input: $input) { ${RUN_FIELDS} } }`;

/** The small CNN of the image tests and benches: 28×28 images in, 10 classes out. */
export const MNIST_CNN_LAYERS = [
  { type: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu' },
  { type: 'maxPooling2d', poolSize: 2 },
  { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
  { type: 'maxPooling2d', poolSize: 2 },
  { type: 'flatten' },
  { type: 'dense', units: 10, activation: 'softmax' },
];

export const MNIST_CNN = {
  layers: MNIST_CNN_LAYERS,
  loss: 'sparseCategoricalCrossentropy',
  optimizer: { type: 'adam', learningRate: 0.003 },
  metrics: ['accuracy'],
};

export const IRIS_MLP = {
  layers: [
    { type: 'dense', units: '$hidden', activation: 'relu', kernelRegularizer: { l2: 0.0001 } },
    { type: 'dropout', rate: 0.1 },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'sparseCategoricalCrossentropy',
  optimizer: { type: 'adam', learningRate: '$lr' },
  metrics: ['accuracy'],
};
