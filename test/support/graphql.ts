export const RUN_FIELDS = `id status attempt epochsCompleted summary device error hyperparameters training createdAt startedAt finishedAt`;

export const CREATE_MODEL = `mutation($input: CreateModelInput!) { createModel(input: $input) { id name version spec } }`;
export const START_RUN = `mutation($input: StartRunInput!) { startRun(input: $input) { ${RUN_FIELDS} } }`;

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
