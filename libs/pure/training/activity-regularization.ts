import * as tf from '@tensorflow/tfjs';

/**
 * Keras's ActivityRegularization layer: the identity, plus a penalty l1·Σ|x| + l2·Σx² (divided by the batch
 * size, as Keras does) on its input, added to the training loss. TF.js refuses to run a layer that has an
 * `activityRegularizer` ("not supported yet"), so buildModel puts this layer right after it instead.
 *
 * The penalty of the latest training-mode call is handed to the loss through `calculateLosses()` (the path
 * layer weight regularisers take), once: a call outside training adds nothing.
 */
export class ActivityRegularization extends tf.layers.Layer {
  static readonly className = 'ActivityRegularization';
  readonly l1: number;
  readonly l2: number;
  /** Kept (the model's own tidy would free it before the loss reads it); freed at the next training call. */
  private penalty: tf.Scalar | undefined;
  private fresh = false;

  constructor(config: { l1?: number; l2?: number; name?: string; trainable?: boolean }) {
    super({ name: config.name, trainable: config.trainable });
    this.l1 = config.l1 ?? 0;
    this.l2 = config.l2 ?? 0;
    this.supportsMasking = true;
    this.addLoss(() => {
      const penalty = this.fresh && this.penalty && !this.penalty.isDisposed ? this.penalty : undefined;
      this.fresh = false;
      return penalty ?? tf.scalar(0);
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs?.training) {
      const batch = x.shape[0] ?? 1;
      let penalty = tf.scalar(0);
      if (this.l1) penalty = tf.add(penalty, tf.mul(this.l1, tf.sum(tf.abs(x))));
      if (this.l2) penalty = tf.add(penalty, tf.mul(this.l2, tf.sum(tf.square(x))));
      this.penalty?.dispose();
      this.penalty = tf.keep(tf.div(penalty, batch) as tf.Scalar);
      this.fresh = true;
    }
    return x;
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.penalty?.dispose();
    this.penalty = undefined;
    return super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), l1: this.l1, l2: this.l2 };
  }
}

tf.serialization.registerClass(ActivityRegularization);
