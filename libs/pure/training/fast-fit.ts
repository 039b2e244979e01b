/**
 * fastFit: a lean replacement for `model.fit(x, y, {epochs, batchSize, shuffle})` on compiled tf.layers models.
 *
 * Same training semantics as LayersModel.fit (tfjs-layers 4.x `makeTrainFunction`): for every batch the model is
 * run with `training: true`, the compiled loss function(s) are applied per output and averaged, regularizer
 * penalties (`model.calculateLosses()`) are added, and `model.optimizer.minimize()` updates the trainable weights.
 * Batches are drawn from a (per-epoch shuffled) index permutation, the last batch may be smaller, and the epoch
 * loss reported is the batch-size-weighted mean of the batch losses, as fit's BaseLogger computes it.
 *
 * What it leaves out, to avoid per-batch overhead: callbacks other than onEpochEnd, metrics, validation,
 * sample/class weights, verbose logging and the periodic `await nextFrame()` (yieldEvery). The batch losses are
 * summed ON the backend, so there is exactly one GPU/wasm -> JS read per epoch (at epoch end).
 *
 * `model.stopTraining = true` (e.g. from onEpochEnd) stops after the current epoch.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 as rng, shuffleInPlace } from '#libs/pure/random';

export interface FastFitOptions {
  /** Number of epochs (default 1). */
  epochs?: number;
  /** Batch size (default 32, like model.fit). */
  batchSize?: number;
  /** Shuffle the samples before each epoch (default true, like model.fit). */
  shuffle?: boolean;
  /** Seed for the shuffle; without it Math.random is used (as model.fit does). */
  seed?: number;
  /** Called after each epoch with the mean training loss. May be async (awaited). */
  onEpochEnd?: (epoch: number, logs: { loss: number }) => void | Promise<void>;
}

export interface FastFitHistory {
  epoch: number[];
  history: { loss: number[] };
}

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Internals of a compiled LayersModel that fit's train function uses. */
interface CompiledInternals {
  lossFunctions?: LossFn[];
  collectedTrainableWeights?: tf.LayerVariable[];
  calculateLosses(): tf.Scalar[];
  optimizer: tf.Optimizer;
  stopTraining: boolean;
}

export async function fastFit(
  model: tf.LayersModel,
  x: tf.Tensor | tf.Tensor[],
  y: tf.Tensor | tf.Tensor[],
  options: FastFitOptions = {},
): Promise<FastFitHistory> {
  // tf.Sequential keeps its compiled state on an inner LayersModel (`model.model`).
  const outer = model as unknown as CompiledInternals & { model?: CompiledInternals };
  const m = outer.lossFunctions == null && outer.model != null ? outer.model : outer;
  const lossFns = m.lossFunctions;
  if (!lossFns || lossFns.length === 0 || !m.optimizer) {
    throw new Error('fastFit: the model must be compiled (model.compile({optimizer, loss})) first');
  }
  const xs = Array.isArray(x) ? x : [x];
  const ys = Array.isArray(y) ? y : [y];
  if (xs.length !== model.inputs.length) throw new Error(`fastFit: model has ${model.inputs.length} inputs, got ${xs.length}`);
  if (ys.length !== lossFns.length) throw new Error(`fastFit: model has ${lossFns.length} outputs, got ${ys.length} targets`);
  const n = xs[0].shape[0];
  for (const t of [...xs, ...ys]) {
    if (t.shape[0] !== n) throw new Error('fastFit: all inputs and targets must have the same number of samples');
  }
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  const shuffle = options.shuffle ?? true;
  const rand = options.seed == null ? Math.random : rng(options.seed);
  const history: FastFitHistory = { epoch: [], history: { loss: [] } };
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;

  outer.stopTraining = false;
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (shuffle) shuffleInPlace(order, rand);
    const indices = tf.tensor1d(order, 'int32');
    let lossSum: tf.Scalar = tf.scalar(0);
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const next = tf.tidy(() => {
        const ids = indices.slice(start, size);
        const xb = shuffle ? xs.map((t) => tf.gather(t, ids)) : xs.map((t) => t.slice(start, size));
        const yb = shuffle ? ys.map((t) => tf.gather(t, ids)) : ys.map((t) => t.slice(start, size));
        const vars = (m.collectedTrainableWeights ?? model.trainableWeights).map((w) => w.read() as tf.Variable);
        const cost = m.optimizer.minimize(
          () => {
            const out = model.apply(xb.length === 1 ? xb[0] : xb, { training: true }) as tf.Tensor | tf.Tensor[];
            const outs = Array.isArray(out) ? out : [out];
            let total: tf.Tensor | undefined;
            for (let i = 0; i < lossFns.length; i++) {
              const l = lossFns[i](yb[i], outs[i]);
              total = total === undefined ? l : tf.add(total, l);
            }
            let loss = tf.mean(total!) as tf.Scalar;
            for (const reg of m.calculateLosses()) loss = tf.add(loss, reg);
            return loss;
          },
          true,
          vars,
        )!;
        return tf.add(lossSum, tf.mul(cost, size)) as tf.Scalar;
      });
      lossSum.dispose();
      lossSum = next;
    }
    indices.dispose();
    const loss = (await lossSum.data())[0] / n;
    lossSum.dispose();
    history.epoch.push(epoch);
    history.history.loss.push(loss);
    if (options.onEpochEnd) await options.onEpochEnd(epoch, { loss });
    if (outer.stopTraining || m.stopTraining) break;
  }
  return history;
}
