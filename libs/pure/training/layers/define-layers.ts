import { definePositionEmbedding, defineTokenAndPositionEmbedding } from './embeddings.js';
import { defineMaskedGlobalAveragePooling1D } from './masked-pooling.js';
import { defineMultiHeadAttention } from './multi-head-attention.js';
import type { Tf } from './tf-types.js';
import { defineTransformerEncoder } from './transformer-encoder.js';

/** The service's own layer classes, built on the given tf (the service's, or a browser's through /v1/layers.js). */
export function defineLayers(tf: Tf) {
  return {
    MultiHeadAttention: defineMultiHeadAttention(tf),
    TransformerEncoder: defineTransformerEncoder(tf),
    PositionEmbedding: definePositionEmbedding(tf),
    TokenAndPositionEmbedding: defineTokenAndPositionEmbedding(tf),
    MaskedGlobalAveragePooling1D: defineMaskedGlobalAveragePooling1D(tf),
  };
}

export type ServiceLayers = ReturnType<typeof defineLayers>;

/**
 * Defines the classes on `tf` and registers them with its serialization, so `tf.loadLayersModel` can rebuild a
 * checkpoint that uses them. Registering again (a second call) replaces the entries; it is harmless.
 */
export function registerLayers(tf: Tf): ServiceLayers {
  const layers = defineLayers(tf);
  for (const layer of Object.values(layers))
    tf.serialization.registerClass(layer as unknown as Parameters<Tf['serialization']['registerClass']>[0]);
  return layers;
}
