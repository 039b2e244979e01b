import * as tf from '@tensorflow/tfjs';

import { registerLayers } from './define-layers.js';
import { type MultiHeadAttentionConfig, multiHeadAttentionParams } from './multi-head-attention.js';
import type { Shape } from './tf-types.js';
import { type TransformerEncoderConfig, transformerEncoderParams } from './transformer-encoder.js';

export { defineLayers, registerLayers } from './define-layers.js';
export { FEEDFORWARD_ACTIVATIONS } from './tf-types.js';

/** The service's layer classes, registered with the service's tf once (checkpoints load through them). */
export const serviceLayers = registerLayers(tf);

type LayerFactory = (config: Record<string, unknown>) => tf.layers.Layer;
const construct =
  (Class: new (config: never) => unknown): LayerFactory =>
  (config) =>
    new Class(config as never) as tf.layers.Layer;

/** Spec type → a factory for the service's own layers, beside TF.js's `tf.layers[type]`. */
export const SERVICE_LAYER_FACTORIES: Record<string, LayerFactory> = {
  multiHeadAttention: construct(serviceLayers.MultiHeadAttention),
  transformerEncoder: construct(serviceLayers.TransformerEncoder),
  positionEmbedding: construct(serviceLayers.PositionEmbedding),
  tokenAndPositionEmbedding: construct(serviceLayers.TokenAndPositionEmbedding),
};

/** The factory of a spec layer type: the service's own, the mask-aware average pooling, or TF.js's. */
export function layerFactory(type: string, options: { masked?: boolean } = {}): LayerFactory | undefined {
  if (type === 'globalAveragePooling1d' && options.masked) return construct(serviceLayers.MaskedGlobalAveragePooling1D);
  return SERVICE_LAYER_FACTORIES[type] ?? (tf.layers as unknown as Record<string, LayerFactory>)[type];
}

/** The weights of the service's own layers for an input shape (TF.js's are counted in param-estimate.ts). */
export function serviceLayerParams(layer: Record<string, unknown>, input: Shape): number | undefined {
  switch (layer.type) {
    case 'multiHeadAttention':
      return multiHeadAttentionParams(layer as MultiHeadAttentionConfig, input);
    case 'transformerEncoder':
      return transformerEncoderParams(layer as TransformerEncoderConfig, input);
    case 'positionEmbedding':
      return (layer.sequenceLength as number) * (input[input.length - 1] ?? 0);
    case 'tokenAndPositionEmbedding':
      return ((layer.vocabularySize as number) + (layer.sequenceLength as number)) * (layer.embeddingDim as number);
    default:
      return undefined;
  }
}

/** Whether a layer makes a padding mask that later layers receive. */
export function makesPaddingMask(layer: Record<string, unknown>): boolean {
  return (layer.type === 'tokenAndPositionEmbedding' || layer.type === 'embedding') && layer.maskZero === true;
}
