import { type Kwargs, type Shape, single, singleMask, singleShape, type Tensor, type Tf } from './tf-types.js';

/**
 * globalAveragePooling1d that respects a padding mask, as Keras's does: the mean over the unmasked steps only
 * (TF.js's own ignores the mask and averages the padding in). A sequence with no unmasked step pools to zeros
 * rather than Keras's 0/0. Without a mask it is the plain mean. The mask stops here.
 */
export function defineMaskedGlobalAveragePooling1D(tf: Tf) {
  return class MaskedGlobalAveragePooling1D extends tf.layers.Layer {
    static readonly className = 'MaskedGlobalAveragePooling1D';

    constructor(config: Record<string, unknown> = {}) {
      super(config as object);
      this.supportsMasking = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = singleShape(inputShape);
      if (shape.length !== 3)
        throw new Error(`globalAveragePooling1d takes [batch, steps, features], got rank ${shape.length}`);
      return [shape[0], shape[2]];
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
      return tf.tidy(() => {
        const x = single(inputs);
        const mask = singleMask(kwargs?.mask);
        if (!mask) return tf.mean(x, 1);
        const keep = tf.expandDims(tf.cast(mask, 'float32'), -1); // [batch, steps, 1]
        return tf.div(tf.sum(tf.mul(x, keep), 1), tf.maximum(tf.sum(keep, 1), 1));
      });
    }

    override computeMask(): Tensor | Tensor[] {
      return null as unknown as Tensor;
    }
  };
}
