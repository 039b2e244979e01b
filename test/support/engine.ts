/**
 * The service's training engine (buildModel + trainModel, the loop a worker runs) on data made in memory, for the
 * specs and benches that train without a dataset file or a worker.
 */
import type * as tf from '@tensorflow/tfjs';

import {
  buildModel,
  type EpochReport,
  expectedOutputUnits,
  type ImageStore,
  type ModelSpec,
  type PreparedData,
  resolveModelSpec,
  type TrainingConfig,
  trainModel,
  type TrainResult,
} from '#libs/pure/training';

export interface EngineRun {
  model: tf.LayersModel;
  spec: ModelSpec;
  data: PreparedData;
  training: TrainingConfig;
}

/**
 * Rows of `inputSize` numbers (features, or token ids: nothing is normalised) and their class labels 0..classes-1,
 * the training rows first, then the last `validationRows`.
 */
export function labelledData(
  x: Float32Array,
  labels: ArrayLike<number>,
  options: { inputSize: number; classes: number; validationRows?: number; inputShape?: number[] },
): PreparedData {
  const rows = labels.length;
  const validationRows = options.validationRows ?? 0;
  if (x.length !== rows * options.inputSize) {
    throw new Error(`labelledData: ${x.length} values are not ${rows} rows of ${options.inputSize}`);
  }
  if (validationRows >= rows) {
    throw new Error(`labelledData: ${validationRows} validation rows of ${rows} leave none to train`);
  }
  return {
    preprocessing: {
      version: 1,
      features: [],
      inputSize: options.inputSize,
      inputShape: options.inputShape,
      target: {
        name: 'label',
        task: 'classification',
        encoding: 'sparse',
        sourceType: 'NUMBER',
        labels: Array.from({ length: options.classes }, (_, i) => i),
      },
      missing: 'drop',
      normalize: 'none',
    },
    x,
    y: Float32Array.from(labels),
    yWidth: 1,
    trainRows: rows - validationRows,
    validationRows,
    droppedRows: 0,
  };
}

/** A resolved training config: one epoch of batch 16, shuffled, seed 5, a checkpoint each epoch, unless told. */
export function trainingConfig(overrides: Partial<TrainingConfig> = {}): TrainingConfig {
  return {
    target: 'label',
    features: [],
    epochs: 1,
    batchSize: 16,
    validationSplit: 0.2,
    shuffle: true,
    seed: 5,
    missing: 'drop',
    normalize: 'none',
    earlyStopping: null,
    lrSchedule: null,
    checkpoint: { every: 1, keep: 1, monitor: 'val_loss', mode: 'min' },
    ...overrides,
  };
}

/** A model built from a raw spec (no $parameters) as a worker builds it, for `data`. */
export function specRun(rawSpec: object, data: PreparedData, training: Partial<TrainingConfig> = {}): EngineRun {
  const spec = resolveModelSpec(rawSpec, {});
  const input = data.preprocessing.inputShape ?? data.preprocessing.inputSize;
  const model = buildModel(spec, input, expectedOutputUnits(data.preprocessing));
  return { model, spec, data, training: trainingConfig(training) };
}

/** Trains a run to its last epoch, nothing persisted; `onEpoch` sees each report as it comes. */
export async function trainToEnd(
  run: EngineRun,
  onEpoch: (report: EpochReport) => void = () => undefined,
): Promise<TrainResult & { reports: EpochReport[] }> {
  const reports: EpochReport[] = [];
  const result = await trainModel({
    ...run,
    hooks: {
      onEpoch: async (report) => {
        reports.push(report);
        onEpoch(report);
      },
      shouldStop: () => false,
    },
  });
  return { ...result, reports };
}

/**
 * PreparedData for 28×28 grey digits labelled 0-9 (a sparse classification of a `label` column), row i of the data
 * being image i of `store`: the first `trainRows` rows train, the next `validationRows` validate.
 */
export function digitImageData(options: {
  store: ImageStore;
  y: Float32Array;
  trainRows: number;
  validationRows: number;
  augment: NonNullable<PreparedData['images']>['augment'];
}): PreparedData {
  const rows = options.trainRows + options.validationRows;
  const labels = Array.from({ length: 10 }, (_, i) => String(i));
  return {
    preprocessing: {
      version: 1,
      features: [],
      inputSize: 784,
      inputShape: [28, 28, 1],
      target: { name: 'label', task: 'classification', encoding: 'sparse', sourceType: 'STRING', labels },
      missing: 'drop',
      normalize: 'none',
    },
    x: new Float32Array(0),
    y: options.y,
    yWidth: 1,
    trainRows: options.trainRows,
    validationRows: options.validationRows,
    droppedRows: 0,
    images: {
      store: options.store,
      rowOf: Int32Array.from({ length: rows }, (_, i) => i),
      shape: [28, 28, 1],
      augment: options.augment,
    },
  };
}
