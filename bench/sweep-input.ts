/**
 * The sweep both sweep benches create (bench:sweep and sweep-advance-profile): TPE over an MLP's width and learning
 * rate on Iris, median pruning, one trial at a time.
 */
export function benchSweepInput(options: {
  name: string;
  datasetId: string;
  modelId: string;
  maxTrials: number;
  epochs: number;
  seed: number;
}): Record<string, unknown> {
  return {
    name: options.name,
    datasetId: options.datasetId,
    modelId: options.modelId,
    strategy: 'TPE',
    searchSpace: {
      hidden: { type: 'int', min: 8, max: 64, step: 8 },
      lr: { type: 'loguniform', min: 0.0001, max: 0.1 },
    },
    objective: { metric: 'val_loss', goal: 'MINIMIZE' },
    maxTrials: options.maxTrials,
    parallelism: 1,
    earlyStopping: { rule: 'median', minTrials: 5, warmupEpochs: 1 },
    training: { target: 'Species', epochs: options.epochs, batchSize: 16, seed: 3 },
    seed: options.seed,
  };
}

export const CREATE_SWEEP = `mutation($input: CreateSweepInput!) { createSweep(input: $input) { id } }`;
