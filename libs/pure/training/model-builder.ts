import * as tf from '@tensorflow/tfjs';

import { ActivityRegularization } from './activity-regularization.js';
import { layerFactory, makesPaddingMask } from './layers/index.js';
import type { LayerSpec, Loss, ModelSpec } from './model-spec.js';
import { isPlainObject, SpecError } from './validation.js';

const REGULARIZER_KEYS = new Set([
  'kernelRegularizer',
  'biasRegularizer',
  'activityRegularizer',
  'recurrentRegularizer',
  'embeddingsRegularizer',
]);

function regularizer(value: { l1?: number; l2?: number }) {
  return tf.regularizers.l1l2({ l1: value.l1 ?? 0, l2: value.l2 ?? 0 });
}

function layerConfig(layer: LayerSpec, index: number, input: number | number[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(layer)) {
    if (key === 'type' || key === 'activityRegularizer') continue;
    config[key] =
      REGULARIZER_KEYS.has(key) && isPlainObject(value) ? regularizer(value as { l1?: number; l2?: number }) : value;
  }
  // TF.js's upSampling2d takes only [rows, cols] (a number gives a NaN shape).
  if (layer.type === 'upSampling2d' && typeof config.size === 'number') config.size = [config.size, config.size];
  // The input shape comes from the dataset's encoded features: a flat vector, or [sequenceLength] token ids, or
  // [height, width, channels] for images.
  if (index === 0) config.inputShape = Array.isArray(input) ? input : [input];
  return config;
}

export function lossFunction(loss: Loss): string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor) {
  if (loss === 'huberLoss') return (yTrue, yPred) => tf.losses.huberLoss(yTrue, yPred);
  return loss;
}

export function createOptimizer(spec: ModelSpec['optimizer']): tf.Optimizer {
  const { type, learningRate } = spec;
  const option = (key: string) => spec[key] as number | undefined;
  switch (type) {
    case 'sgd':
      return tf.train.sgd(learningRate ?? 0.01);
    case 'momentum':
      return tf.train.momentum(
        learningRate ?? 0.01,
        option('momentum') ?? 0.9,
        (spec.useNesterov as boolean | undefined) ?? false,
      );
    case 'adagrad':
      return tf.train.adagrad(learningRate ?? 0.01, option('initialAccumulatorValue'));
    case 'adadelta':
      return tf.train.adadelta(learningRate ?? 1, option('rho'), option('epsilon'));
    case 'rmsprop':
      return tf.train.rmsprop(
        learningRate ?? 0.001,
        option('decay'),
        option('momentum'),
        option('epsilon'),
        (spec.centered as boolean | undefined) ?? false,
      );
    case 'adam':
      return tf.train.adam(learningRate ?? 0.001, option('beta1'), option('beta2'), option('epsilon'));
    case 'adamax':
      return tf.train.adamax(
        learningRate ?? 0.002,
        option('beta1'),
        option('beta2'),
        option('epsilon'),
        option('decay'),
      );
  }
}

/**
 * The metrics TF.js computes itself; precision, recall and f1 are computed over whole sets at each epoch end instead.
 */
export function builtinMetrics(spec: ModelSpec): string[] {
  return spec.metrics.filter((metric) => metric === 'accuracy' || metric === 'mse' || metric === 'mae');
}

/**
 * Builds and compiles the layers model a spec describes. Layer construction errors are turned into
 * SpecErrors that name the layer, since TF.js's own messages do not.
 */
/** `input`: the width of a flat feature vector, or the input shape without the batch (Preprocessing.inputShape). */
export function buildModel(spec: ModelSpec, input: number | number[], outputUnits: number): tf.Sequential {
  const last = spec.layers.length - 1;
  const lastUnits = [...spec.layers].reverse().find((layer) => typeof layer.units === 'number');
  if (lastUnits && lastUnits.units !== outputUnits && ['dense', 'lstm', 'gru', 'simpleRNN'].includes(lastUnits.type)) {
    const index = spec.layers.lastIndexOf(lastUnits);
    if (
      index === last ||
      spec.layers
        .slice(index + 1)
        .every((layer) => ['activation', 'dropout', 'flatten', 'softmax'].includes(layer.type))
    ) {
      throw new SpecError(
        `spec.layers[${index}] (${lastUnits.type}).units is ${lastUnits.units}, but the target needs ` +
          `${outputUnits} output unit(s)`,
      );
    }
  }
  const model = tf.sequential();
  spec.layers.forEach((layer, index) => {
    // After a maskZero embedding the padding mask reaches globalAveragePooling1d, whose TF.js version ignores it.
    const masked = spec.layers.slice(0, index).some(makesPaddingMask);
    const factory = layerFactory(layer.type, { masked })!;
    try {
      model.add(factory(layerConfig(layer, index, input)));
      // TF.js cannot run a layer with an activityRegularizer: the penalty comes from a layer after it.
      if (isPlainObject(layer.activityRegularizer)) {
        const { l1, l2 } = layer.activityRegularizer as { l1?: number; l2?: number };
        model.add(new ActivityRegularization({ l1, l2 }));
      }
    } catch (error) {
      model.dispose();
      throw new SpecError(`spec.layers[${index}] (${layer.type}): ${(error as Error).message}`);
    }
  });
  const outputShape = model.outputs[0].shape;
  if (outputShape.length !== 2 || outputShape[1] !== outputUnits) {
    model.dispose();
    throw new SpecError(
      `the model's output shape is [${outputShape.map((d) => d ?? 'batch').join(', ')}], but the target needs ` +
        `[batch, ${outputUnits}]; end with a dense layer of ${outputUnits} unit(s)`,
    );
  }
  model.compile({
    loss: lossFunction(spec.loss) as string,
    optimizer: createOptimizer(spec.optimizer),
    metrics: builtinMetrics(spec),
  });
  return model;
}

export function countParams(model: tf.LayersModel): number {
  return model.countParams();
}
