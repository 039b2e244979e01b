import {
  addAttentionWeights,
  attentionMaskBias,
  attentionParams,
  type AttentionShape,
  type AttentionWeights,
  selfAttention,
} from './attention.js';
import {
  applyActivation,
  denseLast,
  type FeedforwardActivation,
  type Kwargs,
  layerNorm,
  type LayerVariable,
  type Shape,
  single,
  singleMask,
  singleShape,
  type Tensor,
  type Tf,
} from './tf-types.js';

export interface TransformerEncoderConfig {
  numHeads: number;
  intermediateDim: number;
  dropout?: number;
  activation?: FeedforwardActivation;
  layerNormEpsilon?: number;
  normalizeFirst?: boolean;
  [base: string]: unknown;
}

/** keras-hub's sizes: key_dim = width / numHeads, which must divide it. */
export function encoderAttentionShape(numHeads: number, width: number | null): AttentionShape {
  if (width == null) throw new Error('the input width (last dimension) must be known');
  if (width % numHeads !== 0) throw new Error(`numHeads ${numHeads} does not divide the input width ${width}`);
  return { width, numHeads, keyDim: width / numHeads, valueDim: width / numHeads, useBias: true };
}

export function transformerEncoderParams(config: TransformerEncoderConfig, inputShape: Shape): number {
  const width = inputShape[inputShape.length - 1]!;
  const attention = attentionParams(encoderAttentionShape(config.numHeads, width));
  const feedforward = width * config.intermediateDim + config.intermediateDim + config.intermediateDim * width + width;
  return attention + feedforward + 2 * 2 * width; // two layer norms, γ and β each
}

/**
 * keras-hub's TransformerEncoder: a self-attention block and a feed-forward block (dense intermediateDim with the
 * activation, dense back to the width), each with dropout and a residual connection, and layer normalisation after
 * each residual (post-norm, the default) or before each block (`normalizeFirst`). The attention uses the same
 * dropout rate on its probabilities; the padding mask of an earlier maskZero hides padded keys and passes on.
 */
export function defineTransformerEncoder(tf: Tf) {
  return class TransformerEncoder extends tf.layers.Layer {
    static readonly className = 'TransformerEncoder';
    readonly numHeads: number;
    readonly intermediateDim: number;
    readonly dropout: number;
    readonly activation: FeedforwardActivation;
    readonly layerNormEpsilon: number;
    readonly normalizeFirst: boolean;
    readonly kernelInitializer = tf.initializers.glorotUniform({});
    readonly biasInitializer = tf.initializers.zeros();
    readonly gammaInitializer = tf.initializers.ones();
    readonly betaInitializer = tf.initializers.zeros();
    private shape: AttentionShape;
    private attention: AttentionWeights;
    private attentionNorm: [LayerVariable, LayerVariable];
    private intermediate: [LayerVariable, LayerVariable];
    private outputDense: [LayerVariable, LayerVariable];
    private feedforwardNorm: [LayerVariable, LayerVariable];

    constructor(config: TransformerEncoderConfig) {
      super(config as object);
      this.numHeads = config.numHeads;
      this.intermediateDim = config.intermediateDim;
      this.dropout = config.dropout ?? 0;
      this.activation = config.activation ?? 'relu';
      this.layerNormEpsilon = config.layerNormEpsilon ?? 1e-5;
      this.normalizeFirst = config.normalizeFirst ?? false;
      this.supportsMasking = true;
    }

    override build(inputShape: Shape | Shape[]): void {
      const shape = this.computeOutputShape(inputShape);
      const width = shape[2]!;
      this.shape = encoderAttentionShape(this.numHeads, width);
      const add = (name: string, size: number[], init: ReturnType<Tf['initializers']['zeros']>) =>
        this.addWeight(name, size, 'float32', init);
      this.attention = addAttentionWeights(
        add,
        'self_attention/',
        this.shape,
        this.kernelInitializer,
        this.biasInitializer,
      );
      this.attentionNorm = [
        add('self_attention_layer_norm/gamma', [width], this.gammaInitializer),
        add('self_attention_layer_norm/beta', [width], this.betaInitializer),
      ];
      this.intermediate = [
        add('feedforward_intermediate_dense/kernel', [width, this.intermediateDim], this.kernelInitializer),
        add('feedforward_intermediate_dense/bias', [this.intermediateDim], this.biasInitializer),
      ];
      this.outputDense = [
        add('feedforward_output_dense/kernel', [this.intermediateDim, width], this.kernelInitializer),
        add('feedforward_output_dense/bias', [width], this.biasInitializer),
      ];
      this.feedforwardNorm = [
        add('feedforward_layer_norm/gamma', [width], this.gammaInitializer),
        add('feedforward_layer_norm/beta', [width], this.betaInitializer),
      ];
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = singleShape(inputShape);
      if (shape.length !== 3)
        throw new Error(`transformerEncoder takes [batch, steps, features], got rank ${shape.length}`);
      encoderAttentionShape(this.numHeads, shape[2]);
      return shape;
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
      return tf.tidy(() => {
        const training = kwargs?.training === true;
        const drop = (t: Tensor) => (training && this.dropout > 0 ? tf.dropout(t, this.dropout) : t);
        const norm = ([gamma, beta]: [LayerVariable, LayerVariable], t: Tensor) =>
          layerNorm(tf, t, gamma.read(), beta.read(), this.layerNormEpsilon);
        const x = single(inputs);
        const bias = attentionMaskBias(tf, x.shape[1]!, singleMask(kwargs?.mask), false);

        let residual = x;
        let h = this.normalizeFirst ? norm(this.attentionNorm, x) : x;
        h = tf.add(drop(selfAttention(tf, h, this.attention, this.shape, bias, this.dropout, training)), residual);
        if (!this.normalizeFirst) h = norm(this.attentionNorm, h);

        residual = h;
        let f = this.normalizeFirst ? norm(this.feedforwardNorm, h) : h;
        f = applyActivation(
          tf,
          this.activation,
          denseLast(tf, f, this.intermediate[0].read(), this.intermediate[1].read()),
        );
        f = denseLast(tf, f, this.outputDense[0].read(), this.outputDense[1].read());
        h = tf.add(drop(f), residual);
        return this.normalizeFirst ? h : norm(this.feedforwardNorm, h);
      });
    }

    override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | Tensor[]): Tensor | Tensor[] {
      return mask as Tensor;
    }

    override getConfig() {
      const config = {
        numHeads: this.numHeads,
        intermediateDim: this.intermediateDim,
        dropout: this.dropout,
        activation: this.activation,
        layerNormEpsilon: this.layerNormEpsilon,
        normalizeFirst: this.normalizeFirst,
      };
      return { ...super.getConfig(), ...config };
    }
  };
}
