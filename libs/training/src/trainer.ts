import * as tf from '@tensorflow/tfjs';
import { classificationScores } from './classification-metrics.js';
import { learningRateAt } from './lr-schedule.js';
import type { ModelSpec } from './model-spec.js';
import type { PreparedData } from './preprocessing.js';
import type { TrainingConfig } from './training-config.js';

export interface CheckpointArtifacts {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weights: ArrayBuffer;
  optimizerSpecs: tf.io.WeightsManifestEntry[];
  optimizerWeights: ArrayBuffer;
}

export interface EpochReport {
  /** 1-based. */
  epoch: number;
  metrics: Record<string, number>;
  /** Present on the epochs `checkpoint.every` asks for, and on the last one. */
  checkpoint?: CheckpointArtifacts;
}

export interface TrainerHooks {
  onEpoch(report: EpochReport): Promise<void>;
  /**
   * Called instead of onEpoch when training stops part-way through an epoch: the partial epoch
   * is not reported, but its weights are handed over so a resume loses nothing.
   */
  onInterrupted?(state: { lastCompletedEpoch: number; batchesIntoEpoch: number; checkpoint: CheckpointArtifacts }): Promise<void>;
  /** Read at every batch; must be cheap (a flag kept up to date elsewhere). */
  shouldStop(): boolean;
}

export interface TrainResult {
  epochsCompleted: number;
  /** Stopped between the batches of an epoch rather than at its end. */
  interrupted: boolean;
  stopReason: 'completed' | 'early-stopped' | 'stopped';
  summary: Record<string, number>;
}

/** TF.js names accuracy "acc" in its logs; runs report the contract's names. */
function metricName(key: string): string {
  return key.replace(/(^|_)acc$/, '$1accuracy');
}

function isImprovement(value: number, best: number | undefined, mode: 'min' | 'max', minDelta: number): boolean {
  if (best === undefined) return true;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}

/** The model's topology, weights and optimiser state, as a checkpoint stores them. */
export async function snapshotModel(model: tf.LayersModel, optimizer: tf.Optimizer = model.optimizer): Promise<CheckpointArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const optimizerState = await optimizer.getWeights();
  const encoded = await tf.io.encodeWeights(optimizerState);
  // getWeights hands back the optimiser's variables plus a fresh iteration-count scalar: free the latter.
  for (const { tensor } of optimizerState) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  return {
    modelTopology: saved!.modelTopology as object,
    weightSpecs: saved!.weightSpecs!,
    weights: tf.io.CompositeArrayBuffer.join(saved!.weightData!),
    optimizerSpecs: encoded.specs,
    optimizerWeights: tf.io.CompositeArrayBuffer.join(encoded.data),
  };
}

/** Predicted class indices for a set, in batches so a large set never needs one huge tensor. */
function predictClasses(model: tf.LayersModel, x: tf.Tensor2D, binary: boolean): Int32Array {
  return tf.tidy(() => {
    const output = model.predict(x, { batchSize: 512 }) as tf.Tensor2D;
    const classes = binary ? output.greater(0.5).squeeze([1]).toInt() : output.argMax(1);
    return classes.dataSync() as Int32Array;
  });
}

/**
 * Trains a compiled model on prepared data. Values are read back from the device once per epoch,
 * never per batch, so the backend is not stalled; the only per-batch work is the learning-rate
 * update and a stop flag check.
 */
export async function trainModel(options: {
  model: tf.LayersModel;
  spec: ModelSpec;
  data: PreparedData;
  training: TrainingConfig;
  hooks: TrainerHooks;
  initialEpoch?: number;
}): Promise<TrainResult> {
  const { model, spec, data, training, hooks } = options;
  const initialEpoch = options.initialEpoch ?? 0;
  const optimizer = model.optimizer;
  const inputSize = data.preprocessing.inputSize;
  const total = data.trainRows + data.validationRows;
  const x = tf.tensor2d(data.x, [total, inputSize]);
  const y = tf.tensor2d(data.y, [total, data.yWidth]);
  const xTrain = x.slice([0, 0], [data.trainRows, inputSize]);
  const yTrain = y.slice([0, 0], [data.trainRows, data.yWidth]);
  const xVal = data.validationRows ? x.slice([data.trainRows, 0], [data.validationRows, inputSize]) : undefined;
  const yVal = data.validationRows ? y.slice([data.trainRows, 0], [data.validationRows, data.yWidth]) : undefined;

  const target = data.preprocessing.target;
  const wantsScores = target.task === 'classification' && spec.metrics.some((metric) => ['precision', 'recall', 'f1'].includes(metric));
  const labelsOf = (values: Float32Array, rows: number, offset: number): Int32Array => {
    const labels = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      if (data.yWidth === 1) labels[i] = values[offset + i];
      else {
        const row = values.subarray((offset + i) * data.yWidth, (offset + i + 1) * data.yWidth);
        labels[i] = row.indexOf(1);
      }
    }
    return labels;
  };
  const trainLabels = wantsScores ? labelsOf(data.y, data.trainRows, 0) : undefined;
  const valLabels = wantsScores && data.validationRows ? labelsOf(data.y, data.validationRows, data.trainRows) : undefined;

  const baseLearningRate = (spec.optimizer.learningRate as number | undefined) ?? (optimizer as unknown as { learningRate: number }).learningRate;
  const stepsPerEpoch = Math.ceil(data.trainRows / training.batchSize);
  const totalSteps = stepsPerEpoch * training.epochs;
  let step = initialEpoch * stepsPerEpoch;
  let currentLr = baseLearningRate;
  const setLearningRate = (lr: number) => {
    if (lr === currentLr) return;
    currentLr = lr;
    const target = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
    if (target.setLearningRate) target.setLearningRate(lr);
    else target.learningRate = lr;
  };

  const early = training.earlyStopping;
  let bestMonitored: number | undefined;
  let waited = 0;
  let bestWeights: tf.Tensor[] | undefined;
  let stopReason: TrainResult['stopReason'] = 'completed';
  let epochsCompleted = initialEpoch;
  let summary: Record<string, number> = {};
  let pending: Promise<void> = Promise.resolve();
  let batchesIntoEpoch = 0;
  let interrupted = false;

  try {
    await model.fit(xTrain, yTrain, {
      epochs: training.epochs,
      initialEpoch,
      batchSize: training.batchSize,
      shuffle: training.shuffle,
      validationData: xVal && yVal ? [xVal, yVal] : undefined,
      verbose: 0,
      yieldEvery: 'auto',
      callbacks: {
        onEpochBegin: async () => {
          batchesIntoEpoch = 0;
        },
        onBatchBegin: async () => {
          batchesIntoEpoch++;
          setLearningRate(learningRateAt(baseLearningRate, training.lrSchedule, step, totalSteps));
          step++;
          if (hooks.shouldStop()) {
            stopReason = 'stopped';
            model.stopTraining = true;
          }
        },
        onEpochEnd: async (epochIndex, logs) => {
          await pending;
          if (batchesIntoEpoch < stepsPerEpoch) {
            interrupted = true;
            if (hooks.onInterrupted) pending = hooks.onInterrupted({ lastCompletedEpoch: epochIndex, batchesIntoEpoch, checkpoint: await snapshotModel(model, optimizer) });
            return;
          }
          const epoch = epochIndex + 1;
          const metrics: Record<string, number> = {};
          for (const [key, value] of Object.entries(logs ?? {})) metrics[metricName(key)] = value as number;
          if (wantsScores) {
            const binary = target.task === 'classification' && target.encoding === 'binary';
            const classes = target.task === 'classification' ? target.labels.length : 2;
            const sets: [string, tf.Tensor2D | undefined, Int32Array | undefined][] = [
              ['', xTrain, trainLabels],
              ['val_', xVal, valLabels],
            ];
            for (const [prefix, xs, labels] of sets) {
              if (!xs || !labels) continue;
              const scores = classificationScores(predictClasses(model, xs, binary), labels, classes);
              for (const metric of ['precision', 'recall', 'f1'] as const) {
                if (spec.metrics.includes(metric)) metrics[prefix + metric] = scores[metric];
              }
            }
          }
          metrics.lr = currentLr;
          summary = metrics;
          epochsCompleted = epoch;

          let lastEpoch = epoch === training.epochs || stopReason === 'stopped';
          if (early && metrics[early.monitor] !== undefined) {
            const value = metrics[early.monitor];
            if (isImprovement(value, bestMonitored, early.mode, early.minDelta)) {
              bestMonitored = value;
              waited = 0;
              if (early.restoreBest) {
                bestWeights?.forEach((tensor) => tensor.dispose());
                bestWeights = model.getWeights().map((tensor) => tensor.clone());
              }
            } else if (++waited > early.patience) {
              stopReason = 'early-stopped';
              model.stopTraining = true;
              lastEpoch = true;
            }
          }
          if (lastEpoch && bestWeights) model.setWeights(bestWeights);
          const due = epoch % training.checkpoint.every === 0 || lastEpoch;
          const checkpoint = due ? await snapshotModel(model, optimizer) : undefined;
          // Persisting runs while the next epoch trains; the next epoch end waits for it.
          pending = hooks.onEpoch({ epoch, metrics, checkpoint });
        },
      },
    });
    await pending;
  } finally {
    bestWeights?.forEach((tensor) => tensor.dispose());
    tf.dispose([x, y, xTrain, yTrain, xVal, yVal].filter((t): t is tf.Tensor2D => t !== undefined));
  }
  return { epochsCompleted, interrupted, stopReason, summary };
}

export interface StoredCheckpoint {
  weightSpecs: tf.io.WeightsManifestEntry[];
  weights: ArrayBuffer;
  optimizerSpecs?: tf.io.WeightsManifestEntry[];
  optimizerWeights?: ArrayBuffer;
}

/**
 * Puts a checkpoint's weights and optimiser state (moments, iteration count) into a freshly built
 * model of the same spec. Both are matched by position: layer names differ between processes.
 */
export async function restoreCheckpoint(model: tf.LayersModel, checkpoint: StoredCheckpoint): Promise<void> {
  const weights = tf.io.decodeWeights(checkpoint.weights, checkpoint.weightSpecs);
  const tensors = checkpoint.weightSpecs.map((spec) => weights[spec.name]);
  model.setWeights(tensors);
  tf.dispose(tensors);
  if (checkpoint.optimizerSpecs?.length && checkpoint.optimizerWeights) {
    const state = tf.io.decodeWeights(checkpoint.optimizerWeights, checkpoint.optimizerSpecs);
    const named = checkpoint.optimizerSpecs.map((spec) => ({ name: spec.name, tensor: state[spec.name] }));
    await model.optimizer.setWeights(named);
    tf.dispose(named.map((entry) => entry.tensor));
  }
}
