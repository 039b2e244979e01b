import * as tf from '@tensorflow/tfjs';

import { deriveSeed, mulberry32, seededPermutation } from '#libs/pure/random';

import { classificationScores } from './classification-metrics.js';
import { augmentImage, isIdentity, scalePixels } from './images/augment.js';
import { learningRateAt } from './lr-schedule.js';
import type { ModelSpec } from './model-spec.js';
import type { PreparedData } from './preprocessing.js';
import { seedInitialWeights, withSeededRandom } from './seeding.js';
import type { TrainingConfig } from './training-config.js';
import { SpecError } from './validation.js';

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
  onInterrupted?(state: {
    lastCompletedEpoch: number;
    batchesIntoEpoch: number;
    checkpoint: CheckpointArtifacts;
  }): Promise<void>;
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

function isImprovement(value: number, best: number | undefined, mode: 'min' | 'max', minDelta: number): boolean {
  if (best === undefined) return true;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}

/** The model's topology, weights and optimiser state, as a checkpoint stores them. */
export async function snapshotModel(
  model: tf.LayersModel,
  optimizer: tf.Optimizer = model.optimizer,
): Promise<CheckpointArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  let optimizerState: { name: string; tensor: tf.Tensor }[];
  try {
    optimizerState = await optimizer.getWeights();
  } catch {
    // TF.js implements no state export for some optimisers (adamax): such a checkpoint holds the weights only,
    // and a resumed run starts the optimiser afresh.
    optimizerState = [];
  }
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
function predictClasses(model: tf.LayersModel, x: tf.Tensor, binary: boolean): Int32Array {
  return tf.tidy(() => {
    const output = model.predict(x, { batchSize: 512 }) as tf.Tensor2D;
    const classes = binary ? output.greater(0.5).squeeze([1]).toInt() : output.argMax(1);
    return classes.dataSync() as Int32Array;
  });
}

/** TF.js names accuracy "acc"; runs report the contract's names. */
function metricName(key: string): string {
  return key.replace(/(^|_)acc$/, '$1accuracy');
}

type LossOrMetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** The parts of a compiled LayersModel that model.fit's train function uses (tfjs-layers 4.x `makeTrainFunction`). */
interface CompiledInternals {
  lossFunctions?: LossOrMetricFn[];
  metricsTensors?: [LossOrMetricFn, number][];
  metricsNames?: string[];
  collectedTrainableWeights?: tf.LayerVariable[];
  calculateLosses(): tf.Scalar[];
  optimizer: tf.Optimizer;
}

function compiledInternals(model: tf.LayersModel): CompiledInternals {
  // tf.Sequential keeps its compiled state on an inner LayersModel.
  const outer = model as unknown as CompiledInternals & { model?: CompiledInternals };
  const inner = outer.lossFunctions == null && outer.model != null ? outer.model : outer;
  if (!inner.lossFunctions?.length || !inner.optimizer) throw new Error('trainModel: the model must be compiled first');
  if (inner.lossFunctions.length !== 1 || model.inputs.length !== 1)
    throw new Error('trainModel: the model must have one input and one output');
  return inner;
}

/** Yields to the event loop at most this often (ms), so heartbeats, stop requests and persistence go on. */
const YIELD_EVERY_MS = 25;

/** Rejects feature values an embedding cannot take as token ids, naming what to change. */
function checkTokenIds(spec: ModelSpec, data: PreparedData): void {
  const first = spec.layers[0];
  if (first?.type !== 'embedding' && first?.type !== 'tokenAndPositionEmbedding') return;
  const inputDim = (first.type === 'embedding' ? first.inputDim : first.vocabularySize) as number;
  for (let i = 0; i < data.x.length; i++) {
    const value = data.x[i];
    if (!Number.isInteger(value) || value < 0 || value >= inputDim) {
      const { normalize } = data.preprocessing;
      throw new SpecError(
        `spec.layers[0] (${first.type}) takes the features as token ids, integers in [0, ${inputDim}), ` +
          `but a feature value is ${value}` +
          (normalize === 'none' ? '' : ` (training.normalize is "${normalize}"; use "none")`),
      );
    }
  }
}

/**
 * Trains a compiled model on prepared data with the semantics of model.fit (loss and compiled metrics averaged
 * over the epoch weighted by batch size, regularisation in the training loss, validation by model.evaluate), in
 * a lean loop: per batch only the learning-rate update, a stop-flag check and one optimizer.minimize; the loss
 * and metrics are summed on the device, and values are read back once per epoch, never per batch.
 *
 * `training.seed` makes a run reproducible on one backend: a fresh run (initialEpoch 0) re-draws its initial
 * weights from the seed, each epoch's shuffle is a permutation seeded by (seed, epoch), and every random op of
 * a step (dropout, noise) draws from (seed, step); so a resumed run shuffles as an uninterrupted one would.
 */
export async function trainModel(options: {
  model: tf.LayersModel;
  spec: ModelSpec;
  data: PreparedData;
  training: TrainingConfig;
  hooks: TrainerHooks;
  initialEpoch?: number;
  /** Re-draw the initial weights from training.seed; default: when initialEpoch is 0. */
  seedWeights?: boolean;
}): Promise<TrainResult> {
  const { model, spec, data, training, hooks } = options;
  const initialEpoch = options.initialEpoch ?? 0;
  const inner = compiledInternals(model);
  const optimizer = inner.optimizer;
  const lossFunction = inner.lossFunctions![0];
  const metricFunctions = (inner.metricsTensors ?? []).map(([fn]) => fn);
  const names = (inner.metricsNames ?? ['loss']).slice(0, 1 + metricFunctions.length).map(metricName);
  const seed = training.seed;
  checkTokenIds(spec, data);
  if (options.seedWeights ?? initialEpoch === 0) seedInitialWeights(model, seed);

  const inputSize = data.preprocessing.inputSize;
  const trainRows = data.trainRows;
  const total = trainRows + data.validationRows;
  const images = data.images;
  // An images dataset keeps its pixels as uint8 in its store: x holds the validation images only (scaled once), and
  // each training batch is read, augmented and scaled as it is drawn. Everything else lives on the device whole.
  const inputShape = data.preprocessing.inputShape ?? [inputSize];
  const rowsOf = (positions: ArrayLike<number>) => Int32Array.from(positions, (position) => images!.rowOf[position]);
  /** A batch's input; `next` (the following batch) is handed to the store to decode while this one trains. */
  const imageBatch = async (
    positions: ArrayLike<number>,
    augmentStep?: number,
    next?: ArrayLike<number>,
  ): Promise<tf.Tensor> => {
    const frame = images!.store.frameBytes;
    const rows = rowsOf(positions);
    const reading = images!.store.read(rows);
    if (next?.length) images!.store.prefetch?.(rowsOf(next));
    const pixels = await reading;
    const values = new Float32Array(pixels.length);
    if (augmentStep === undefined || isIdentity(images!.augment)) scalePixels(pixels, values);
    else {
      const random = mulberry32(deriveSeed(seed, 3, augmentStep));
      const [height, width, channels] = images!.shape;
      for (let i = 0; i < rows.length; i++) {
        augmentImage(
          pixels.subarray(i * frame, (i + 1) * frame),
          width,
          height,
          channels,
          images!.augment!,
          random,
          values,
          i * frame,
        );
      }
    }
    return tf.tensor(values, [rows.length, ...images!.shape]);
  };
  const range = (start: number, count: number) => Int32Array.from({ length: count }, (_, i) => start + i);
  // An images dataset's validation set is read batch by batch too (see evaluateImages): held whole as float32 it
  // would take 4× its uint8 bytes (2 GB for 2,600 images of 256×256×3) on top of the store.
  const x = images ? tf.zeros([0, ...inputShape]) : tf.tensor(data.x, [total, ...inputShape]);
  const y = tf.tensor2d(data.y, [total, data.yWidth]);
  const sets = {
    // For images, x is already the validation set and xTrain is unused (batches come from the store).
    xTrain: images ? x : data.validationRows ? x.slice(0, trainRows) : x,
    yTrain: data.validationRows ? y.slice([0, 0], [trainRows, data.yWidth]) : y,
    xVal: data.validationRows && !images ? x.slice(trainRows, data.validationRows) : undefined,
    yVal: data.validationRows ? y.slice([trainRows, 0], [data.validationRows, data.yWidth]) : undefined,
  };

  const target = data.preprocessing.target;
  const wantsScores =
    target.task === 'classification' && spec.metrics.some((metric) => ['precision', 'recall', 'f1'].includes(metric));
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
  const trainLabels = wantsScores ? labelsOf(data.y, trainRows, 0) : undefined;
  /**
   * The validation images' loss and metrics, batch by batch from the store (the next batch read ahead), combined
   * as model.evaluate combines its batches (batch means weighted by batch size, over the set's size), and their
   * predicted classes when scores are wanted.
   */
  const evaluateImages = async (binary: boolean): Promise<{ evaluated: tf.Scalar[]; classes?: Int32Array }> => {
    const rows = data.validationRows;
    const classes = wantsScores ? new Int32Array(rows) : undefined;
    let sums: tf.Scalar[] = [];
    for (let start = 0; start < rows; start += training.batchSize) {
      const count = Math.min(training.batchSize, rows - start);
      const nextCount = Math.min(training.batchSize, rows - start - count);
      const next = nextCount > 0 ? range(trainRows + start + count, nextCount) : undefined;
      const xBatch = await imageBatch(range(trainRows + start, count), undefined, next);
      const yBatch = y.slice([trainRows + start, 0], [count, data.yWidth]);
      const out = model.evaluate(xBatch, yBatch, { batchSize: training.batchSize });
      const outs = Array.isArray(out) ? out : [out];
      const weighted = tf.tidy(() =>
        outs.map((value, i) => (sums[i] ? tf.add(sums[i], tf.mul(value, count)) : tf.mul(value, count)) as tf.Scalar),
      );
      tf.dispose([...sums, ...outs]);
      sums = weighted;
      if (classes) classes.set(predictClasses(model, xBatch, binary), start);
      tf.dispose([xBatch, yBatch]);
    }
    const evaluated = tf.tidy(() => sums.map((sum) => tf.div(sum, rows) as tf.Scalar));
    tf.dispose(sums);
    return { evaluated, classes };
  };
  const valLabels = wantsScores && data.validationRows ? labelsOf(data.y, data.validationRows, trainRows) : undefined;

  const baseLearningRate =
    (spec.optimizer.learningRate as number | undefined) ??
    (optimizer as unknown as { learningRate: number }).learningRate;
  const batchSize = training.batchSize;
  const stepsPerEpoch = Math.ceil(trainRows / batchSize);
  const totalSteps = stepsPerEpoch * training.epochs;
  let step = initialEpoch * stepsPerEpoch;
  let currentLr = (optimizer as unknown as { learningRate: number }).learningRate;
  const setLearningRate = (lr: number) => {
    if (lr === currentLr) return;
    currentLr = lr;
    const target = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
    if (target.setLearningRate) target.setLearningRate(lr);
    else target.learningRate = lr;
  };
  const variables = (inner.collectedTrainableWeights ?? model.trainableWeights).map(
    (weight) => weight.read() as tf.Variable,
  );

  const early = training.earlyStopping;
  let bestMonitored: number | undefined;
  let waited = 0;
  let bestWeights: tf.Tensor[] | undefined;
  let stopReason: TrainResult['stopReason'] = 'completed';
  let epochsCompleted = initialEpoch;
  let summary: Record<string, number> = {};
  let pending: Promise<void> = Promise.resolve();
  let interrupted = false;
  const order = new Int32Array(trainRows);
  let lastYield = performance.now();
  // Per-step constants kept on the device: the batch-size weights (tf.mul(t, size) would upload a new scalar
  // every step). Same values, so the same products.
  const sizeScalars = new Map<number, tf.Scalar>();
  const sizeScalar = (size: number): tf.Scalar => {
    let scalar = sizeScalars.get(size);
    if (!scalar) sizeScalars.set(size, (scalar = tf.scalar(size)));
    return scalar;
  };
  // A shuffled epoch is gathered once on the device, and its batches are then contiguous slices (gather of a
  // slice of the permutation ≡ slice of the gathered set): two slices per step instead of slice + two gathers.
  // Past this many bytes the per-batch gather is kept, so a large set is never held twice.
  const PRESHUFFLE_MAX_BYTES = 256 * 1024 * 1024;
  const preshuffle = !images && trainRows * (inputSize + data.yWidth) * 4 <= PRESHUFFLE_MAX_BYTES;
  const accumulated = 1 + metricFunctions.length;

  try {
    for (let epochIndex = initialEpoch; epochIndex < training.epochs; epochIndex++) {
      if (training.shuffle) seededPermutation(order, deriveSeed(seed, 1, epochIndex));
      let indices = training.shuffle ? tf.tensor1d(order, 'int32') : undefined;
      let xEpoch = sets.xTrain;
      let yEpoch = sets.yTrain;
      if (indices && preshuffle) {
        xEpoch = tf.gather(sets.xTrain, indices);
        yEpoch = tf.gather(sets.yTrain, indices);
        indices.dispose();
        indices = undefined;
      }
      // Σ over batches of batch size × [loss, ...metrics], on the device (a scalar when there is only the loss).
      let sums: tf.Tensor = accumulated === 1 ? tf.scalar(0) : tf.zeros([accumulated]);
      let batchesIntoEpoch = 0;
      try {
        for (let start = 0; start < trainRows; start += batchSize) {
          if (hooks.shouldStop()) {
            stopReason = 'stopped';
            break;
          }
          setLearningRate(learningRateAt(baseLearningRate, training.lrSchedule, step, totalSteps));
          const size = Math.min(batchSize, trainRows - start);
          const weight = sizeScalar(size);
          const positions = (from: number, count: number) =>
            training.shuffle ? order.subarray(from, from + count) : range(from, count);
          const nextSize = Math.min(batchSize, trainRows - start - size);
          const imageInput = images
            ? await imageBatch(
                positions(start, size),
                step,
                nextSize > 0 ? positions(start + size, nextSize) : undefined,
              )
            : undefined;
          const next = withSeededRandom(deriveSeed(seed, 2, step), () =>
            tf.tidy(() => {
              const ids = indices?.slice(start, size);
              const xb = imageInput ?? (ids ? tf.gather(xEpoch, ids) : xEpoch.slice(start, size));
              const yb = ids ? tf.gather(yEpoch, ids) : yEpoch.slice(start, size);
              let output: tf.Tensor | undefined;
              const cost = optimizer.minimize(
                () => {
                  const out = model.apply(xb, { training: true }) as tf.Tensor;
                  let loss = tf.mean(lossFunction(yb, out)) as tf.Scalar;
                  // As fit does, the metrics are taken on this training-mode output: kept out of the forward
                  // pass's tidy and computed after it, off the gradient tape (which would add identity copies).
                  if (metricFunctions.length) output = tf.keep(out);
                  for (const penalty of inner.calculateLosses()) loss = tf.add(loss, penalty);
                  return loss;
                },
                true,
                variables,
              )!;
              const metrics = metricFunctions.map((fn) => tf.mean(fn(yb, output!)) as tf.Scalar);
              output?.dispose(); // kept tensors outlive every tidy
              const batchValues = tf.mul(metrics.length ? tf.stack([cost, ...metrics]) : cost, weight);
              return tf.add(sums, batchValues);
            }),
          );
          imageInput?.dispose();
          sums.dispose();
          sums = next;
          batchesIntoEpoch++;
          step++;
          if (performance.now() - lastYield > YIELD_EVERY_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            lastYield = performance.now();
          }
        }
        if (xEpoch !== sets.xTrain) {
          xEpoch.dispose();
          yEpoch.dispose();
          xEpoch = sets.xTrain;
          yEpoch = sets.yTrain;
        }

        if (batchesIntoEpoch < stepsPerEpoch) {
          // Stopped part-way: the partial epoch is not reported; stopped before its first batch, nothing is lost.
          await pending;
          if (batchesIntoEpoch > 0) {
            interrupted = true;
            if (hooks.onInterrupted)
              await hooks.onInterrupted({
                lastCompletedEpoch: epochIndex,
                batchesIntoEpoch,
                checkpoint: await snapshotModel(model, optimizer),
              });
          }
          break;
        }

        // One read for the epoch: training means and validation results together.
        const binaryTarget = target.task === 'classification' && target.encoding === 'binary';
        const imageValidation = images && data.validationRows ? await evaluateImages(binaryTarget) : undefined;
        const evaluated =
          imageValidation?.evaluated ??
          (sets.xVal && sets.yVal ? model.evaluate(sets.xVal, sets.yVal, { batchSize }) : []);
        const evaluatedList = Array.isArray(evaluated) ? evaluated : [evaluated];
        const combined = tf.tidy(() =>
          tf.concat([
            tf.reshape(tf.div(sums, trainRows), [accumulated]),
            ...evaluatedList.map((value) => tf.reshape(value, [1])),
          ]),
        );
        tf.dispose(evaluatedList);
        const values = await combined.data();
        combined.dispose();
        const epoch = epochIndex + 1;
        const metrics: Record<string, number> = {};
        names.forEach((name, i) => (metrics[name] = values[i]));
        if (evaluatedList.length) names.forEach((name, i) => (metrics[`val_${name}`] = values[names.length + i]));
        if (wantsScores) {
          const binary = target.task === 'classification' && target.encoding === 'binary';
          const classes = target.task === 'classification' ? target.labels.length : 2;
          const scoreSets: [string, Int32Array | undefined, Int32Array | undefined][] = [
            // An images dataset's training set is never whole on the device: its scores are on validation only.
            ['', images ? undefined : predictClasses(model, sets.xTrain, binary), trainLabels],
            ['val_', imageValidation?.classes ?? (sets.xVal && predictClasses(model, sets.xVal, binary)), valLabels],
          ];
          for (const [prefix, predicted, labels] of scoreSets) {
            if (!predicted || !labels) continue;
            const scores = classificationScores(predicted, labels, classes);
            for (const metric of ['precision', 'recall', 'f1'] as const) {
              if (spec.metrics.includes(metric)) metrics[prefix + metric] = scores[metric];
            }
          }
        }
        metrics.lr = currentLr;
        await pending;
        summary = metrics;
        epochsCompleted = epoch;

        if (hooks.shouldStop()) stopReason = 'stopped';
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
            if (stopReason !== 'stopped') stopReason = 'early-stopped';
            lastEpoch = true;
          }
        }
        if (lastEpoch && bestWeights) model.setWeights(bestWeights);
        const due = epoch % training.checkpoint.every === 0 || lastEpoch;
        const checkpoint = due ? await snapshotModel(model, optimizer) : undefined;
        // Persisting runs while the next epoch trains; the next epoch end waits for it.
        pending = hooks.onEpoch({ epoch, metrics, checkpoint });
        pending.catch(() => undefined); // awaited (and thrown) at the next epoch end or below, never unhandled
        if (lastEpoch) break;
      } finally {
        sums.dispose();
        indices?.dispose();
        if (xEpoch !== sets.xTrain) tf.dispose([xEpoch, yEpoch]);
      }
    }
    await pending;
  } finally {
    bestWeights?.forEach((tensor) => tensor.dispose());
    tf.dispose([...sizeScalars.values()]);
    tf.dispose([...new Set([x, y, ...Object.values(sets)])].filter((t): t is tf.Tensor => t !== undefined));
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
