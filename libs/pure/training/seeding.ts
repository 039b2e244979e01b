import type * as tf from '@tensorflow/tfjs';

import { deriveSeed, mulberry32 } from '#libs/pure/random';

/**
 * Runs `fn` with Math.random replaced by a generator seeded with `seed`. TF.js draws the seed of every
 * unseeded random op (initialisers, dropout masks, gaussian noise, RNN dropout) from Math.random, so this
 * makes all of them reproducible. `fn` must be synchronous: no other code may run while it is swapped.
 */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  Math.random = mulberry32(seed);
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

/** Weight name (last path segment) → the layer (or RNN cell) attribute holding its initialiser. */
const INITIALIZER_OF: Record<string, string> = {
  kernel: 'kernelInitializer',
  bias: 'biasInitializer',
  recurrent_kernel: 'recurrentInitializer',
  embeddings: 'embeddingsInitializer',
  depthwise_kernel: 'depthwiseInitializer',
  pointwise_kernel: 'pointwiseInitializer',
  gamma: 'gammaInitializer',
  beta: 'betaInitializer',
};

const CONSTANT_INITIALIZERS = new Set(['Zeros', 'Ones', 'Constant', 'Identity']);

type SeedableInitializer = { apply(shape: number[], dtype?: tf.DataType): tf.Tensor; getClassName(): string };
type WithInitializers = Record<string, unknown> & {
  cell?: Record<string, unknown>;
  unitForgetBias?: boolean;
  /** Where weights of one kind draw from different initialisers, the layer names each one's (the service's layers). */
  initializerFor?: (weightName: string) => SeedableInitializer;
};

/**
 * Re-draws every randomly initialised weight of a freshly built model from `seed`: weight `w` of layer `l`
 * uses the layer's own initialiser under the derived seed (seed, l, w). Constant initialisers (zeros, ones)
 * are left alone, and so is an LSTM bias with unitForgetBias (ones for the forget gate), which its layer
 * builds from a composite initialiser that is deterministic whenever the bias initialiser is constant.
 */
export function seedInitialWeights(model: tf.LayersModel, seed: number): void {
  model.layers.forEach((layer, layerIndex) => {
    const owner = layer as unknown as WithInitializers;
    layer.weights.forEach((weight, weightIndex) => {
      const kind = (weight.originalName ?? weight.name).split('/').pop()!.replace(/_\d+$/, '');
      const attribute = INITIALIZER_OF[kind];
      if (!attribute) return;
      const holder = owner[attribute] ? owner : owner.cell;
      const own = owner.initializerFor?.(weight.originalName ?? weight.name);
      const initializer = own ?? (holder?.[attribute] as SeedableInitializer | undefined);
      if (!initializer || typeof initializer.apply !== 'function') return;
      if (CONSTANT_INITIALIZERS.has(initializer.getClassName())) return;
      if (kind === 'bias' && (holder as WithInitializers).unitForgetBias) return;
      const value = withSeededRandom(deriveSeed(seed, layerIndex, weightIndex), () =>
        initializer.apply(weight.shape as number[], weight.dtype),
      );
      weight.write(value);
      value.dispose();
    });
  });
}
