/**
 * The layer code is written against a `tf` handed in (never an import of @tensorflow/tfjs), so the same source
 * serves the service (its own tf) and the self-contained module of GET /v1/layers.js (the caller's tf).
 * Only types are imported here; the bundle carries no import at all.
 */
import type * as tfNamespace from '@tensorflow/tfjs';

export type Tf = typeof tfNamespace;
export type Tensor = tfNamespace.Tensor;
export type LayerVariable = tfNamespace.LayerVariable;
export type Initializer = ReturnType<Tf['initializers']['zeros']>;
export type Shape = (number | null)[];
export type Kwargs = { mask?: Tensor | Tensor[] | null; training?: boolean; [key: string]: unknown };

/** Keras's large negative for masked float32 logits: exp underflows to exactly 0 beside any real score. */
export const MASKED_LOGIT = -1e9;

/** The activations a transformer's feed-forward block may use, each as plain differentiable ops. */
export const FEEDFORWARD_ACTIVATIONS = [
  'relu',
  'gelu',
  'tanh',
  'sigmoid',
  'swish',
  'elu',
  'selu',
  'softplus',
  'mish',
  'relu6',
  'linear',
] as const;
export type FeedforwardActivation = (typeof FEEDFORWARD_ACTIVATIONS)[number];

export function applyActivation(tf: Tf, name: FeedforwardActivation, x: Tensor): Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      // Keras's default gelu (approximate=False): x·Φ(x) with the exact erf.
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'elu':
      return tf.elu(x);
    case 'selu':
      return tf.selu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'mish':
      return tf.mul(x, tf.tanh(tf.softplus(x)));
    case 'relu6':
      return tf.relu6(x);
    case 'linear':
      return x;
  }
}

/** Keras LayerNormalization over the last axis: (x − mean)/√(var + ε)·γ + β, from differentiable ops. */
export function layerNorm(tf: Tf, x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): Tensor {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
}

/** x [..., in] · kernel [in, out] (+ bias) as one 2-D matMul: the backends' fastest path, a gradient everywhere. */
export function denseLast(tf: Tf, x: Tensor, kernel: Tensor, bias: Tensor | undefined): Tensor {
  const shape = x.shape;
  const inner = shape[shape.length - 1];
  const units = kernel.shape[1]!;
  let y = tf.matMul(tf.reshape(x, [-1, inner]) as tfNamespace.Tensor2D, kernel as tfNamespace.Tensor2D) as Tensor;
  if (bias) y = tf.add(y, bias);
  return tf.reshape(y, [...shape.slice(0, -1), units]);
}

export function single(inputs: Tensor | Tensor[]): Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

export function singleMask(mask: Kwargs['mask']): Tensor | null {
  if (mask == null) return null;
  return Array.isArray(mask) ? (mask[0] ?? null) : mask;
}

export function singleShape(inputShape: Shape | Shape[]): Shape {
  return Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : (inputShape as Shape);
}
