import { FEEDFORWARD_ACTIVATIONS } from './layers/tf-types.js';
import { checkKeys, describe, isPlainObject, numberAt, oneOf, ownEntry, SpecError } from './validation.js';

export const LOSSES = [
  'meanSquaredError',
  'meanAbsoluteError',
  'huberLoss',
  'binaryCrossentropy',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
] as const;
export const CLASSIFICATION_LOSSES: readonly Loss[] = [
  'binaryCrossentropy',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
];
export const OPTIMIZERS = ['sgd', 'momentum', 'adagrad', 'adadelta', 'rmsprop', 'adam', 'adamax'] as const;
export const METRICS = ['accuracy', 'precision', 'recall', 'f1', 'mse', 'mae'] as const;
export const ACTIVATIONS = [
  'elu',
  'hardSigmoid',
  'linear',
  'relu',
  'relu6',
  'selu',
  'sigmoid',
  'softmax',
  'softplus',
  'softsign',
  'tanh',
  'swish',
  'mish',
] as const;

export type Loss = (typeof LOSSES)[number];
export type OptimizerType = (typeof OPTIMIZERS)[number];
export type Metric = (typeof METRICS)[number];

export interface LayerSpec {
  type: string;
  [key: string]: unknown;
}

export interface ModelSpec {
  layers: LayerSpec[];
  loss: Loss;
  optimizer: { type: OptimizerType; learningRate?: number; [key: string]: unknown };
  metrics: Metric[];
}

type Check =
  | 'posInt'
  | 'nonNegInt'
  | 'rate'
  | 'number'
  | 'activation'
  | 'size'
  | 'padding'
  | 'bool'
  | 'regularizer'
  | 'initializer'
  | 'shape'
  | 'axis'
  | 'dataFormat'
  | 'feedforwardActivation'
  | 'positive';

const INITIALIZERS = [
  'zeros',
  'ones',
  'glorotUniform',
  'glorotNormal',
  'heUniform',
  'heNormal',
  'leCunUniform',
  'leCunNormal',
  'randomUniform',
  'randomNormal',
  'truncatedNormal',
  'orthogonal',
  'varianceScaling',
  'identity',
];

const COMMON: Record<string, Check> = { trainable: 'bool' };
const KERNEL: Record<string, Check> = {
  useBias: 'bool',
  kernelInitializer: 'initializer',
  biasInitializer: 'initializer',
  kernelRegularizer: 'regularizer',
  biasRegularizer: 'regularizer',
  activityRegularizer: 'regularizer',
};
const CONV: Record<string, Check> = {
  ...KERNEL,
  filters: 'posInt',
  kernelSize: 'size',
  strides: 'size',
  padding: 'padding',
  dilationRate: 'size',
  activation: 'activation',
  dataFormat: 'dataFormat',
};
const POOL: Record<string, Check> = { poolSize: 'size', strides: 'size', padding: 'padding', dataFormat: 'dataFormat' };
const RNN: Record<string, Check> = {
  ...KERNEL,
  units: 'posInt',
  activation: 'activation',
  recurrentActivation: 'activation',
  recurrentInitializer: 'initializer',
  recurrentRegularizer: 'regularizer',
  dropout: 'rate',
  recurrentDropout: 'rate',
  returnSequences: 'bool',
  goBackwards: 'bool',
  unitForgetBias: 'bool',
};

/** Every layer type a spec may use, with the keys of its config that we check. */
export const LAYER_CATALOGUE: Record<string, { keys: Record<string, Check>; required: string[] }> = {
  dense: { keys: { ...KERNEL, units: 'posInt', activation: 'activation' }, required: ['units'] },
  dropout: { keys: { rate: 'rate', seed: 'nonNegInt' }, required: ['rate'] },
  activation: { keys: { activation: 'activation' }, required: ['activation'] },
  flatten: { keys: {}, required: [] },
  reshape: { keys: { targetShape: 'shape' }, required: ['targetShape'] },
  batchNormalization: {
    keys: {
      axis: 'axis',
      momentum: 'number',
      epsilon: 'number',
      center: 'bool',
      scale: 'bool',
      betaInitializer: 'initializer',
      gammaInitializer: 'initializer',
    },
    required: [],
  },
  layerNormalization: { keys: { axis: 'axis', epsilon: 'number', center: 'bool', scale: 'bool' }, required: [] },
  conv1d: { keys: CONV, required: ['filters', 'kernelSize'] },
  conv2d: { keys: CONV, required: ['filters', 'kernelSize'] },
  separableConv2d: { keys: { ...CONV, depthMultiplier: 'posInt' }, required: ['filters', 'kernelSize'] },
  depthwiseConv2d: { keys: { ...CONV, depthMultiplier: 'posInt' }, required: ['kernelSize'] },
  maxPooling1d: { keys: POOL, required: [] },
  maxPooling2d: { keys: POOL, required: [] },
  averagePooling1d: { keys: POOL, required: [] },
  averagePooling2d: { keys: POOL, required: [] },
  globalMaxPooling1d: { keys: {}, required: [] },
  globalMaxPooling2d: { keys: { dataFormat: 'dataFormat' }, required: [] },
  globalAveragePooling1d: { keys: {}, required: [] },
  globalAveragePooling2d: { keys: { dataFormat: 'dataFormat' }, required: [] },
  embedding: {
    keys: {
      inputDim: 'posInt',
      outputDim: 'posInt',
      embeddingsInitializer: 'initializer',
      embeddingsRegularizer: 'regularizer',
      maskZero: 'bool',
      inputLength: 'posInt',
    },
    required: ['inputDim', 'outputDim'],
  },
  lstm: { keys: RNN, required: ['units'] },
  gru: { keys: { ...RNN, resetAfter: 'bool' }, required: ['units'] },
  simpleRNN: { keys: RNN, required: ['units'] },
  leakyReLU: { keys: { alpha: 'number' }, required: [] },
  softmax: { keys: { axis: 'axis' }, required: [] },
  gaussianNoise: { keys: { stddev: 'number' }, required: ['stddev'] },
  upSampling2d: { keys: { size: 'size', dataFormat: 'dataFormat' }, required: [] },
  zeroPadding2d: { keys: { padding: 'size', dataFormat: 'dataFormat' }, required: [] },
  repeatVector: { keys: { n: 'posInt' }, required: ['n'] },
  permute: { keys: { dims: 'shape' }, required: ['dims'] },
  // The service's own layers (libs/pure/training/layers), keys as in Keras / keras-hub.
  multiHeadAttention: {
    keys: {
      numHeads: 'posInt',
      keyDim: 'posInt',
      valueDim: 'posInt',
      dropout: 'rate',
      useBias: 'bool',
      causal: 'bool',
    },
    required: ['numHeads'],
  },
  transformerEncoder: {
    keys: {
      numHeads: 'posInt',
      intermediateDim: 'posInt',
      dropout: 'rate',
      activation: 'feedforwardActivation',
      layerNormEpsilon: 'positive',
      normalizeFirst: 'bool',
    },
    required: ['numHeads', 'intermediateDim'],
  },
  positionEmbedding: { keys: { sequenceLength: 'posInt' }, required: ['sequenceLength'] },
  tokenAndPositionEmbedding: {
    keys: { vocabularySize: 'posInt', sequenceLength: 'posInt', embeddingDim: 'posInt', maskZero: 'bool' },
    required: ['vocabularySize', 'sequenceLength', 'embeddingDim'],
  },
};

/** Layers that keep their input's width (last dimension), so a width set earlier still holds after them. */
const WIDTH_PRESERVING = new Set([
  'transformerEncoder',
  'multiHeadAttention',
  'positionEmbedding',
  'dropout',
  'layerNormalization',
  'batchNormalization',
  'activation',
  'gaussianNoise',
  'leakyReLU',
  'softmax',
]);

/**
 * Refuses, already at createModel, an attention layer whose numHeads cannot divide the width a token embedding
 * gives it (the full shape check runs at startRun, in estimateParams, once the input width is known).
 */
function checkAttentionWidths(layers: Record<string, unknown>[]): void {
  let width: { value: number; from: string } | undefined;
  layers.forEach((layer, index) => {
    const path = `spec.layers[${index}] (${layer.type})`;
    const heads = layer.numHeads;
    const needsDivision =
      layer.type === 'transformerEncoder' || (layer.type === 'multiHeadAttention' && layer.keyDim === undefined);
    const concrete = typeof heads === 'number' && Number.isInteger(heads) && heads > 0;
    if (width && needsDivision && concrete && width.value % heads !== 0) {
      throw new SpecError(
        `${path}.numHeads is ${heads}, which does not divide the width ${width.value} (${width.from}); ` +
          'use a numHeads that divides it',
      );
    }
    if (layer.type === 'tokenAndPositionEmbedding' && typeof layer.embeddingDim === 'number') {
      width = { value: layer.embeddingDim, from: `embeddingDim of spec.layers[${index}]` };
    } else if (layer.type === 'dense' && typeof layer.units === 'number') {
      width = { value: layer.units, from: `units of spec.layers[${index}]` };
    } else if (!WIDTH_PRESERVING.has(layer.type as string)) width = undefined;
  });
}

const REFERENCE = /^\$([A-Za-z_][A-Za-z0-9_]*)$/;

export function referenceName(value: unknown): string | undefined {
  return typeof value === 'string' ? REFERENCE.exec(value)?.[1] : undefined;
}

/** Every "$name" the spec refers to, in the order first met. */
export function collectReferences(value: unknown, into = new Set<string>()): Set<string> {
  const name = referenceName(value);
  if (name) into.add(name);
  else if (Array.isArray(value)) value.forEach((item) => collectReferences(item, into));
  else if (isPlainObject(value)) Object.values(value).forEach((item) => collectReferences(item, into));
  return into;
}

/** Replaces each "$name" by the run's hyperparameter `name`. */
export function substituteHyperparameters(
  value: unknown,
  hyperparameters: Record<string, unknown>,
  path = 'spec',
): unknown {
  const name = referenceName(value);
  if (name) {
    if (!Object.hasOwn(hyperparameters, name)) {
      throw new SpecError(`${path} refers to $${name}, but no hyperparameter "${name}" was given`);
    }
    return hyperparameters[name];
  }
  if (Array.isArray(value))
    return value.map((item, index) => substituteHyperparameters(item, hyperparameters, `${path}[${index}]`));
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substituteHyperparameters(item, hyperparameters, `${path}.${key}`),
      ]),
    );
  }
  return value;
}

const MAX_DEPTH = 8;
function checkDepth(value: unknown, path: string, depth = 0): void {
  if (depth > MAX_DEPTH) throw new SpecError(`${path} is nested too deeply (more than ${MAX_DEPTH} levels)`);
  if (Array.isArray(value)) value.forEach((item, index) => checkDepth(item, `${path}[${index}]`, depth + 1));
  else if (isPlainObject(value))
    Object.entries(value).forEach(([key, item]) => checkDepth(item, `${path}.${key}`, depth + 1));
}

function checkValue(check: Check, value: unknown, path: string): void {
  switch (check) {
    case 'posInt':
      numberAt(value, path, { integer: true, min: 1 });
      return;
    case 'nonNegInt':
      numberAt(value, path, { integer: true, min: 0 });
      return;
    case 'rate':
      numberAt(value, path, { min: 0, max: 0.99 });
      return;
    case 'number':
      numberAt(value, path);
      return;
    case 'activation':
      oneOf(value, ACTIVATIONS, path);
      return;
    case 'feedforwardActivation':
      oneOf(value, FEEDFORWARD_ACTIVATIONS, path);
      return;
    case 'positive':
      numberAt(value, path, { min: 0, exclusiveMin: true });
      return;
    case 'padding':
      oneOf(value, ['valid', 'same', 'causal'] as const, path);
      return;
    case 'dataFormat':
      oneOf(value, ['channelsLast', 'channelsFirst'] as const, path);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new SpecError(`${path} must be true or false, got ${describe(value)}`);
      return;
    case 'axis':
      numberAt(value, path, { integer: true });
      return;
    case 'size':
      if (Array.isArray(value))
        value.forEach((item, index) => numberAt(item, `${path}[${index}]`, { integer: true, min: 1 }));
      else numberAt(value, path, { integer: true, min: 1 });
      return;
    case 'shape':
      if (!Array.isArray(value) || value.length === 0)
        throw new SpecError(`${path} must be a non-empty list of sizes, got ${describe(value)}`);
      value.forEach((item, index) => {
        if (item !== -1) numberAt(item, `${path}[${index}]`, { integer: true, min: 1 });
      });
      return;
    case 'initializer':
      if (typeof value === 'string') oneOf(value, INITIALIZERS, path);
      else if (!isPlainObject(value))
        throw new SpecError(`${path} must be an initializer name, got ${describe(value)}`);
      return;
    case 'regularizer':
      if (!isPlainObject(value))
        throw new SpecError(`${path} must be {"l1": x} , {"l2": x} or both, got ${describe(value)}`);
      checkKeys(value, ['l1', 'l2'], path);
      if (value.l1 === undefined && value.l2 === undefined) throw new SpecError(`${path} needs l1, l2 or both`);
      if (value.l1 !== undefined) numberAt(value.l1, `${path}.l1`, { min: 0 });
      if (value.l2 !== undefined) numberAt(value.l2, `${path}.l2`, { min: 0 });
      return;
  }
}

function optimizerKeys(type: OptimizerType): string[] {
  const extra: Record<OptimizerType, string[]> = {
    sgd: [],
    momentum: ['momentum', 'useNesterov'],
    adagrad: ['initialAccumulatorValue'],
    adadelta: ['rho', 'epsilon'],
    rmsprop: ['decay', 'momentum', 'epsilon', 'centered'],
    adam: ['beta1', 'beta2', 'epsilon'],
    adamax: ['beta1', 'beta2', 'epsilon', 'decay'],
  };
  return ['type', 'learningRate', ...extra[type]];
}

/**
 * Checks a model spec. With `allowReferences`, a "$name" stands for any value (createModel);
 * without, every value must be concrete (startRun, after substitution).
 */
export function validateModelSpec(raw: unknown, options: { allowReferences: boolean }): ModelSpec {
  if (!isPlainObject(raw))
    throw new SpecError(`spec must be an object with layers, loss and optimizer, got ${describe(raw)}`);
  checkDepth(raw, 'spec');
  checkKeys(raw, ['layers', 'loss', 'optimizer', 'metrics'], 'spec');
  const skip = (value: unknown) => options.allowReferences && referenceName(value) !== undefined;
  const check = (kind: Check, value: unknown, path: string) => {
    if (!skip(value)) checkValue(kind, value, path);
  };

  if (!Array.isArray(raw.layers) || raw.layers.length === 0)
    throw new SpecError('spec.layers must be a non-empty list of layers');
  if (raw.layers.length > 200)
    throw new SpecError(`spec.layers has ${raw.layers.length} layers; at most 200 are allowed`);
  raw.layers.forEach((layer: unknown, index: number) => {
    if (!isPlainObject(layer))
      throw new SpecError(`spec.layers[${index}] must be an object with a type, got ${describe(layer)}`);
    const type = layer.type;
    if (typeof type !== 'string') throw new SpecError(`spec.layers[${index}].type is required (e.g. "dense")`);
    const entry = ownEntry(LAYER_CATALOGUE, type);
    if (!entry)
      throw new SpecError(
        `spec.layers[${index}].type: unknown layer type "${type}" (known: ${Object.keys(LAYER_CATALOGUE).join(', ')})`,
      );
    const path = `spec.layers[${index}] (${type})`;
    const keys = { ...COMMON, ...entry.keys };
    for (const [key, value] of Object.entries(layer)) {
      if (key === 'type') continue;
      const kind = ownEntry(keys, key);
      if (!kind)
        throw new SpecError(
          `${path}.${key} is not a key of a ${type} layer (known: ${Object.keys(keys).join(', ') || 'none'})`,
        );
      check(kind, value, `${path}.${key}`);
    }
    for (const key of entry.required) {
      if (layer[key] === undefined) throw new SpecError(`${path}.${key} is required`);
    }
  });

  checkAttentionWidths(raw.layers as Record<string, unknown>[]);

  if (!skip(raw.loss)) oneOf(raw.loss, LOSSES, 'spec.loss');
  const optimizer = raw.optimizer ?? { type: 'adam' };
  if (!isPlainObject(optimizer))
    throw new SpecError(
      `spec.optimizer must be an object like {"type": "adam", "learningRate": 0.001}, got ${describe(optimizer)}`,
    );
  if (!skip(optimizer.type)) {
    const type = oneOf(optimizer.type, OPTIMIZERS, 'spec.optimizer.type');
    checkKeys(optimizer, optimizerKeys(type), 'spec.optimizer');
  }
  for (const [key, value] of Object.entries(optimizer)) {
    if (key === 'type') continue;
    if (key === 'useNesterov' || key === 'centered') check('bool', value, `spec.optimizer.${key}`);
    else if (!skip(value)) numberAt(value, `spec.optimizer.${key}`, { min: 0, exclusiveMin: key === 'learningRate' });
  }

  const metrics = raw.metrics ?? [];
  if (!Array.isArray(metrics)) throw new SpecError(`spec.metrics must be a list, got ${describe(metrics)}`);
  metrics.forEach((metric, index) => {
    if (!skip(metric)) oneOf(metric, METRICS, `spec.metrics[${index}]`);
  });
  return {
    layers: raw.layers as LayerSpec[],
    loss: raw.loss as Loss,
    optimizer: optimizer as ModelSpec['optimizer'],
    metrics: metrics as Metric[],
  };
}

/** The concrete spec a run trains: references substituted, then checked in full. */
export function resolveModelSpec(spec: unknown, hyperparameters: Record<string, unknown>): ModelSpec {
  return validateModelSpec(substituteHyperparameters(spec, hyperparameters), { allowReferences: false });
}
