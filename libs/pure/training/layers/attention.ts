import type { Initializer, LayerVariable, Tensor, Tf } from './tf-types.js';
import { denseLast, MASKED_LOGIT } from './tf-types.js';

/** The sizes of one self-attention block (Keras MultiHeadAttention with query = key = value). */
export interface AttentionShape {
  width: number;
  numHeads: number;
  keyDim: number;
  valueDim: number;
  useBias: boolean;
}

/** One attention block's projections: query, key, value (width → heads·dim), output (heads·valueDim → width). */
export interface AttentionWeights {
  query: [LayerVariable, LayerVariable | undefined];
  key: [LayerVariable, LayerVariable | undefined];
  value: [LayerVariable, LayerVariable | undefined];
  output: [LayerVariable, LayerVariable | undefined];
}

type AddWeight = (name: string, shape: number[], initializer: Initializer) => LayerVariable;

/**
 * Creates the block's weights through the owning layer's addWeight, named `<prefix>query/kernel` etc. so that
 * the run's seeding finds each kernel's initialiser by the last path segment, as for TF.js's own layers.
 * Kernels are kept 2-D ([width, heads·dim]) rather than Keras's 3-D EinsumDense shape: same parameters, and a
 * plain matMul (TF.js has no Einsum gradient).
 */
export function addAttentionWeights(
  add: AddWeight,
  prefix: string,
  shape: AttentionShape,
  kernel: Initializer,
  bias: Initializer,
): AttentionWeights {
  const { width, numHeads, keyDim, valueDim, useBias } = shape;
  const projection = (name: string, inputs: number, units: number): [LayerVariable, LayerVariable | undefined] => [
    add(`${prefix}${name}/kernel`, [inputs, units], kernel),
    useBias ? add(`${prefix}${name}/bias`, [units], bias) : undefined,
  ];
  return {
    query: projection('query', width, numHeads * keyDim),
    key: projection('key', width, numHeads * keyDim),
    value: projection('value', width, numHeads * valueDim),
    output: projection('attention_output', numHeads * valueDim, width),
  };
}

export function attentionParams(shape: AttentionShape): number {
  const { width, numHeads, keyDim, valueDim, useBias } = shape;
  const bias = useBias ? 1 : 0;
  return (
    2 * (width * numHeads * keyDim + bias * numHeads * keyDim) +
    (width * numHeads * valueDim + bias * numHeads * valueDim) +
    (numHeads * valueDim * width + bias * width)
  );
}

/**
 * The additive mask of the attention logits, [batch|1, 1, steps|1, steps], or undefined when nothing is masked:
 * 0 where a query may attend to a key, −1e9 where it may not (Keras's Softmax-with-mask adds the same). A padding
 * mask [batch, steps] hides padded keys; `causal` hides each query's future (key index > query index).
 */
export function attentionMaskBias(tf: Tf, steps: number, padding: Tensor | null, causal: boolean): Tensor | undefined {
  let bias: Tensor | undefined;
  if (padding) {
    const keep = tf.cast(padding, 'float32');
    bias = tf.reshape(tf.mul(tf.sub(1, keep), MASKED_LOGIT), [keep.shape[0], 1, 1, steps]);
  }
  if (causal) {
    const lower = tf.linalg.bandPart(tf.ones([steps, steps]), -1, 0);
    const future = tf.reshape(tf.mul(tf.sub(1, lower), MASKED_LOGIT), [1, 1, steps, steps]);
    bias = bias ? tf.add(bias, future) : future;
  }
  return bias;
}

/**
 * Multi-head self-attention, Keras MultiHeadAttention semantics: per head softmax(q·kᵀ/√keyDim + mask)·v, dropout on
 * the attention probabilities in training, heads concatenated and projected back to the input width.
 */
export function selfAttention(
  tf: Tf,
  x: Tensor,
  weights: AttentionWeights,
  shape: AttentionShape,
  maskBias: Tensor | undefined,
  dropout: number,
  training: boolean,
): Tensor {
  const [batch, steps] = x.shape as [number, number, number];
  const { numHeads, keyDim, valueDim } = shape;
  const heads = (projection: [LayerVariable, LayerVariable | undefined], dim: number) =>
    tf.transpose(
      tf.reshape(denseLast(tf, x, projection[0].read(), projection[1]?.read()), [batch, steps, numHeads, dim]),
      [0, 2, 1, 3],
    );
  const query = tf.mul(heads(weights.query, keyDim), 1 / Math.sqrt(keyDim));
  const key = heads(weights.key, keyDim);
  const value = heads(weights.value, valueDim);
  let logits = tf.matMul(query, key, false, true); // [batch, heads, steps, steps]
  if (maskBias) logits = tf.add(logits, maskBias);
  let probabilities = tf.softmax(logits, -1);
  if (training && dropout > 0) probabilities = tf.dropout(probabilities, dropout);
  const attended = tf.matMul(probabilities, value); // [batch, heads, steps, valueDim]
  const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [batch, steps, numHeads * valueDim]);
  return denseLast(tf, merged, weights.output[0].read(), weights.output[1]?.read());
}
