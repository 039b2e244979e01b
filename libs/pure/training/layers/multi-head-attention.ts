import {
  addAttentionWeights,
  attentionMaskBias,
  attentionParams,
  type AttentionShape,
  type AttentionWeights,
  selfAttention,
} from './attention.js';
import { type Kwargs, type Shape, single, singleMask, singleShape, type Tensor, type Tf } from './tf-types.js';

export interface MultiHeadAttentionConfig {
  numHeads: number;
  /** Per-head size of query and key; default: the input width / numHeads (which must then divide it). */
  keyDim?: number;
  /** Per-head size of value; default keyDim. */
  valueDim?: number;
  dropout?: number;
  useBias?: boolean;
  causal?: boolean;
  [base: string]: unknown;
}

/** The block's sizes for an input width, or an error naming the key at fault. */
export function attentionShape(config: MultiHeadAttentionConfig, width: number | null): AttentionShape {
  const numHeads = config.numHeads;
  if (!Number.isInteger(numHeads) || numHeads < 1)
    throw new Error(`numHeads must be a whole number ≥ 1, got ${numHeads}`);
  if (width == null) throw new Error('the input width (last dimension) must be known');
  let keyDim = config.keyDim;
  if (keyDim === undefined) {
    if (width % numHeads !== 0)
      throw new Error(
        `numHeads ${numHeads} does not divide the input width ${width} (set keyDim, or a width that numHeads divides)`,
      );
    keyDim = width / numHeads;
  }
  return { width, numHeads, keyDim, valueDim: config.valueDim ?? keyDim, useBias: config.useBias ?? true };
}

export function multiHeadAttentionParams(config: MultiHeadAttentionConfig, inputShape: Shape): number {
  return attentionParams(attentionShape(config, inputShape[inputShape.length - 1]));
}

/**
 * Keras MultiHeadAttention as self-attention over [batch, steps, features] (query = key = value = the input), output
 * of the input's shape. A padding mask from an earlier layer (maskZero) hides padded keys, `causal` hides the future;
 * the mask passes on unchanged.
 */
export function defineMultiHeadAttention(tf: Tf) {
  return class MultiHeadAttention extends tf.layers.Layer {
    static readonly className = 'MultiHeadAttention';
    readonly numHeads: number;
    readonly keyDim: number | undefined;
    readonly valueDim: number | undefined;
    readonly dropout: number;
    readonly useBias: boolean;
    readonly causal: boolean;
    readonly kernelInitializer = tf.initializers.glorotUniform({});
    readonly biasInitializer = tf.initializers.zeros();
    private shape: AttentionShape;
    private projections: AttentionWeights;

    constructor(config: MultiHeadAttentionConfig) {
      super(config as object);
      this.numHeads = config.numHeads;
      this.keyDim = config.keyDim;
      this.valueDim = config.valueDim;
      this.dropout = config.dropout ?? 0;
      this.useBias = config.useBias ?? true;
      this.causal = config.causal ?? false;
      this.supportsMasking = true;
    }

    private config(): MultiHeadAttentionConfig {
      return { numHeads: this.numHeads, keyDim: this.keyDim, valueDim: this.valueDim, useBias: this.useBias };
    }

    override build(inputShape: Shape | Shape[]): void {
      const shape = singleShape(inputShape);
      if (shape.length !== 3)
        throw new Error(`multiHeadAttention takes [batch, steps, features], got rank ${shape.length}`);
      this.shape = attentionShape(this.config(), shape[2]);
      this.projections = addAttentionWeights(
        (name, size, init) => this.addWeight(name, size, 'float32', init),
        '',
        this.shape,
        this.kernelInitializer,
        this.biasInitializer,
      );
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = singleShape(inputShape);
      if (shape.length !== 3)
        throw new Error(`multiHeadAttention takes [batch, steps, features], got rank ${shape.length}`);
      attentionShape(this.config(), shape[2]);
      return shape;
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
      return tf.tidy(() => {
        const x = single(inputs);
        const bias = attentionMaskBias(tf, x.shape[1]!, singleMask(kwargs?.mask), this.causal);
        return selfAttention(tf, x, this.projections, this.shape, bias, this.dropout, kwargs?.training === true);
      });
    }

    override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | Tensor[]): Tensor | Tensor[] {
      return mask as Tensor;
    }

    override getConfig() {
      const config: Record<string, unknown> = {
        numHeads: this.numHeads,
        dropout: this.dropout,
        useBias: this.useBias,
        causal: this.causal,
      };
      if (this.keyDim !== undefined) config.keyDim = this.keyDim;
      if (this.valueDim !== undefined) config.valueDim = this.valueDim;
      return { ...super.getConfig(), ...config } as ReturnType<InstanceType<Tf['layers']['Layer']>['getConfig']>;
    }
  };
}
