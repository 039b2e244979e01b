import { layerFactory, serviceLayerParams } from './layers/index.js';
import type { ModelSpec } from './model-spec.js';
import { SpecError } from './validation.js';

type Shape = (number | null)[];

const last = (shape: Shape) => shape[shape.length - 1] ?? 0;
const size = (value: unknown, rank: number): number[] =>
  Array.isArray(value) ? (value as number[]) : Array(rank).fill((value as number | undefined) ?? 1);

/** The input rank (batch included) a layer needs; a spec that feeds it another is refused before it trains. */
const INPUT_RANK: Record<string, number> = {
  conv1d: 3,
  maxPooling1d: 3,
  averagePooling1d: 3,
  globalMaxPooling1d: 3,
  globalAveragePooling1d: 3,
  lstm: 3,
  gru: 3,
  simpleRNN: 3,
  conv2d: 4,
  depthwiseConv2d: 4,
  separableConv2d: 4,
  maxPooling2d: 4,
  averagePooling2d: 4,
  globalMaxPooling2d: 4,
  globalAveragePooling2d: 4,
  upSampling2d: 4,
  zeroPadding2d: 4,
  embedding: 2,
  multiHeadAttention: 3,
  transformerEncoder: 3,
  positionEmbedding: 3,
  tokenAndPositionEmbedding: 2,
};

/** Trainable and non-trainable weights a layer creates for an input of `input` shape, from its config alone. */
function layerParams(layer: Record<string, unknown>, input: Shape): number {
  const bias = layer.useBias === false ? 0 : 1;
  const channels = last(input);
  const own = serviceLayerParams(layer, input);
  if (own !== undefined) return own;
  switch (layer.type) {
    case 'dense':
      return channels * (layer.units as number) + bias * (layer.units as number);
    case 'conv1d':
    case 'conv2d': {
      const kernel = size(layer.kernelSize, layer.type === 'conv1d' ? 1 : 2).reduce((a, b) => a * b, 1);
      return kernel * channels * (layer.filters as number) + bias * (layer.filters as number);
    }
    case 'depthwiseConv2d': {
      const kernel = size(layer.kernelSize, 2).reduce((a, b) => a * b, 1);
      const multiplier = (layer.depthMultiplier as number | undefined) ?? 1;
      return kernel * channels * multiplier + bias * channels * multiplier;
    }
    case 'separableConv2d': {
      const kernel = size(layer.kernelSize, 2).reduce((a, b) => a * b, 1);
      const multiplier = (layer.depthMultiplier as number | undefined) ?? 1;
      return (
        kernel * channels * multiplier +
        channels * multiplier * (layer.filters as number) +
        bias * (layer.filters as number)
      );
    }
    case 'embedding':
      return (layer.inputDim as number) * (layer.outputDim as number);
    case 'simpleRNN':
    case 'lstm':
    case 'gru': {
      const units = layer.units as number;
      const gates = layer.type === 'lstm' ? 4 : layer.type === 'gru' ? 3 : 1;
      return gates * (units * (channels + units) + bias * units * (layer.type === 'gru' && layer.resetAfter ? 2 : 1));
    }
    case 'batchNormalization':
      return 4 * channels;
    case 'layerNormalization':
      return 2 * channels;
    default:
      return 0;
  }
}

/**
 * Counts a spec's parameters for a given input width without allocating any weights (shapes come
 * from each layer's own computeOutputShape), so the API can refuse an oversized model before a
 * worker tries to build it. Shape errors (a conv2d on a flat vector, say) surface here too.
 */
/** `input`: a flat vector's width, or the input shape without the batch (images, token sequences). */
export function estimateParams(spec: ModelSpec, input: number | number[]): number {
  let shape: Shape = [null, ...(Array.isArray(input) ? input : [input])];
  let total = 0;
  spec.layers.forEach((layer, index) => {
    const { type, ...rest } = layer;
    // Only shape-giving keys matter here; regularisers and initialisers are turned into objects by the builder.
    const config = Object.fromEntries(
      Object.entries(rest).filter(([key]) => !/(Regularizer|Initializer|Constraint)$/.test(key)),
    );
    const previous = shape;
    try {
      const rank = INPUT_RANK[type];
      if (rank !== undefined && shape.length !== rank)
        throw new Error(`it needs an input of rank ${rank} (batch included); add a reshape layer before it`);
      if (type === 'flatten' && shape.length < 3) throw new Error('it needs an input of rank 3 or more');
      const instance = layerFactory(type)!(config);
      shape = instance.computeOutputShape(previous) as Shape;
      total += layerParams(layer, previous);
    } catch (error) {
      throw new SpecError(
        `spec.layers[${index}] (${type}) cannot take an input of shape ` +
          `[${shape.map((d) => d ?? 'batch').join(', ')}]: ${(error as Error).message}`,
      );
    }
    if (shape.some((d) => d !== null && (d < 1 || !Number.isFinite(d)))) {
      throw new SpecError(
        `spec.layers[${index}] (${type}) gives an output of shape ` +
          `[${shape.map((d) => d ?? 'batch').join(', ')}]; every dimension must be at least 1`,
      );
    }
  });
  return total;
}
