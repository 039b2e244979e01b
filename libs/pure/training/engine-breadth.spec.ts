import { beforeAll, describe, expect, it } from 'vitest';

import { mulberry32 } from '#libs/pure/random';

import { trainingConfig } from '../../../test/support/engine.js';
import { selectBackend } from './backend.js';
import { classificationScores } from './classification-metrics.js';
import { learningRateAt } from './lr-schedule.js';
import { buildModel } from './model-builder.js';
import {
  LAYER_CATALOGUE,
  type LayerSpec,
  LOSSES,
  type Metric,
  METRICS,
  OPTIMIZERS,
  resolveModelSpec,
} from './model-spec.js';
import type { PreparedData } from './preprocessing.js';
import { type EpochReport, trainModel } from './trainer.js';
import { LR_SCHEDULES, type TrainingConfig } from './training-config.js';

const ROWS = 80;

/** Synthetic prepared data: `inputSize` features in [0, 1) (or integer token ids), a label derived from them. */
function syntheticData(options: {
  inputSize: number;
  task: 'classification' | 'regression';
  classes?: number;
  encoding?: 'sparse' | 'onehot' | 'binary';
  tokens?: number;
}): PreparedData {
  const { inputSize, task } = options;
  const classes = options.classes ?? 3;
  const encoding = options.encoding ?? 'sparse';
  const random = mulberry32(11);
  const yWidth = task === 'classification' && encoding === 'onehot' ? classes : 1;
  const x = new Float32Array(ROWS * inputSize);
  const y = new Float32Array(ROWS * yWidth);
  for (let row = 0; row < ROWS; row++) {
    let sum = 0;
    for (let j = 0; j < inputSize; j++) {
      const value = options.tokens ? Math.floor(random() * options.tokens) : random();
      x[row * inputSize + j] = value;
      sum += value;
    }
    const mean = sum / inputSize / (options.tokens ?? 1);
    if (task === 'regression') y[row] = 2 * mean - 0.5;
    else {
      const label =
        encoding === 'binary' ? Number(mean > 0.5) : Math.min(classes - 1, Math.floor(mean * 2 * classes) % classes);
      if (yWidth > 1) y[row * yWidth + label] = 1;
      else y[row] = label;
    }
  }
  const labels = Array.from({ length: encoding === 'binary' ? 2 : classes }, (_, i) => `c${i}`);
  return {
    preprocessing: {
      version: 1,
      features: [],
      inputSize,
      target:
        task === 'classification'
          ? { name: 't', task, encoding, sourceType: 'STRING', labels }
          : { name: 't', task, sourceType: 'NUMBER' },
      missing: 'drop',
      normalize: options.tokens ? 'none' : 'standard',
    },
    x,
    y,
    yWidth,
    trainRows: ROWS - 16,
    validationRows: 16,
    droppedRows: 0,
  };
}

async function trainOnce(options: {
  layers: LayerSpec[];
  loss?: string;
  optimizer?: Record<string, unknown>;
  metrics?: Metric[];
  data: PreparedData;
  training?: Partial<TrainingConfig>;
}): Promise<EpochReport[]> {
  const spec = resolveModelSpec(
    {
      layers: options.layers,
      loss: options.loss ?? 'sparseCategoricalCrossentropy',
      optimizer: options.optimizer ?? { type: 'adam', learningRate: 0.01 },
      metrics: options.metrics ?? ['accuracy'],
    },
    {},
  );
  const outputUnits =
    options.data.preprocessing.target.task === 'classification' &&
    options.data.yWidth === 1 &&
    spec.loss !== 'binaryCrossentropy'
      ? 3
      : options.data.yWidth;
  const model = buildModel(spec, options.data.preprocessing.inputSize, outputUnits);
  const reports: EpochReport[] = [];
  try {
    const result = await trainModel({
      model,
      spec,
      data: options.data,
      training: trainingConfig(options.training),
      hooks: { onEpoch: async (report) => void reports.push(report), shouldStop: () => false },
    });
    expect(result.stopReason).toBe('completed');
  } finally {
    model.dispose();
  }
  expect(reports.length).toBeGreaterThan(0);
  for (const [name, value] of Object.entries(reports.at(-1)!.metrics))
    expect(Number.isFinite(value), `${name} = ${value}`).toBe(true);
  return reports;
}

const SOFTMAX_OUT: LayerSpec = { type: 'dense', units: 3, activation: 'softmax' };

/** Each case: the layers before (and including) the output, on 16 features in [0, 1) unless it says tokens. */
const LAYER_CASES: [string, LayerSpec[], { tokens?: number }?][] = [
  [
    'dense + regularizers (kernel, bias, activity)',
    [
      {
        type: 'dense',
        units: 8,
        activation: 'relu',
        kernelRegularizer: { l2: 0.01 },
        biasRegularizer: { l1: 0.01 },
        activityRegularizer: { l1: 0.001, l2: 0.001 },
      },
      SOFTMAX_OUT,
    ],
  ],
  [
    'dropout, activation, leakyReLU, gaussianNoise, softmax layer',
    [
      { type: 'dense', units: 8 },
      { type: 'leakyReLU', alpha: 0.1 },
      { type: 'dropout', rate: 0.3 },
      { type: 'gaussianNoise', stddev: 0.1 },
      { type: 'dense', units: 3 },
      { type: 'activation', activation: 'tanh' },
      { type: 'softmax' },
    ],
  ],
  [
    'batchNormalization, layerNormalization',
    [{ type: 'dense', units: 8 }, { type: 'batchNormalization' }, { type: 'layerNormalization' }, SOFTMAX_OUT],
  ],
  [
    'reshape → conv1d → maxPooling1d → averagePooling1d → flatten',
    [
      { type: 'reshape', targetShape: [16, 1] },
      { type: 'conv1d', filters: 4, kernelSize: 3, activation: 'relu', kernelRegularizer: { l2: 0.01 } },
      { type: 'maxPooling1d', poolSize: 2 },
      { type: 'averagePooling1d', poolSize: 2 },
      { type: 'flatten' },
      SOFTMAX_OUT,
    ],
  ],
  [
    'conv1d → globalMaxPooling1d / globalAveragePooling1d',
    [
      { type: 'reshape', targetShape: [8, 2] },
      { type: 'conv1d', filters: 4, kernelSize: 2, padding: 'same' },
      { type: 'globalMaxPooling1d' },
      { type: 'repeatVector', n: 3 },
      { type: 'globalAveragePooling1d' },
      SOFTMAX_OUT,
    ],
  ],
  [
    'reshape → conv2d → maxPooling2d → averagePooling2d → flatten',
    [
      { type: 'reshape', targetShape: [4, 4, 1] },
      { type: 'conv2d', filters: 4, kernelSize: 2, activation: 'relu', padding: 'same' },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'averagePooling2d', poolSize: 2 },
      { type: 'flatten' },
      SOFTMAX_OUT,
    ],
  ],
  [
    'zeroPadding2d → separableConv2d → depthwiseConv2d → upSampling2d → globalMaxPooling2d',
    [
      { type: 'reshape', targetShape: [4, 4, 1] },
      { type: 'zeroPadding2d', padding: 1 },
      { type: 'separableConv2d', filters: 4, kernelSize: 3 },
      { type: 'depthwiseConv2d', kernelSize: 2, depthMultiplier: 2 },
      { type: 'upSampling2d', size: 2 },
      { type: 'globalMaxPooling2d' },
      SOFTMAX_OUT,
    ],
  ],
  [
    'conv2d → globalAveragePooling2d',
    [
      { type: 'reshape', targetShape: [4, 4, 1] },
      { type: 'conv2d', filters: 4, kernelSize: 3 },
      { type: 'globalAveragePooling2d' },
      SOFTMAX_OUT,
    ],
  ],
  [
    'reshape → lstm (returnSequences) → lstm',
    [
      { type: 'reshape', targetShape: [16, 1] },
      { type: 'lstm', units: 4, returnSequences: true, recurrentRegularizer: { l2: 0.01 } },
      { type: 'lstm', units: 4, dropout: 0.1, recurrentDropout: 0.1 },
      SOFTMAX_OUT,
    ],
  ],
  ['reshape → gru', [{ type: 'reshape', targetShape: [8, 2] }, { type: 'gru', units: 4 }, SOFTMAX_OUT]],
  ['reshape → simpleRNN', [{ type: 'reshape', targetShape: [8, 2] }, { type: 'simpleRNN', units: 4 }, SOFTMAX_OUT]],
  [
    'reshape → permute → flatten',
    [{ type: 'reshape', targetShape: [8, 2] }, { type: 'permute', dims: [2, 1] }, { type: 'flatten' }, SOFTMAX_OUT],
  ],
  [
    'embedding (token ids, normalize none) → flatten',
    [
      { type: 'embedding', inputDim: 10, outputDim: 4, embeddingsRegularizer: { l2: 0.001 } },
      { type: 'flatten' },
      SOFTMAX_OUT,
    ],
    { tokens: 10 },
  ],
  [
    'embedding → lstm',
    [{ type: 'embedding', inputDim: 10, outputDim: 4 }, { type: 'lstm', units: 4 }, SOFTMAX_OUT],
    { tokens: 10 },
  ],
  [
    'tokenAndPositionEmbedding (maskZero) → transformerEncoder → globalAveragePooling1d',
    [
      { type: 'tokenAndPositionEmbedding', vocabularySize: 10, sequenceLength: 16, embeddingDim: 8, maskZero: true },
      { type: 'transformerEncoder', numHeads: 2, intermediateDim: 16, dropout: 0.1 },
      { type: 'globalAveragePooling1d' },
      SOFTMAX_OUT,
    ],
    { tokens: 10 },
  ],
  [
    'embedding → positionEmbedding → multiHeadAttention (causal) → flatten',
    [
      { type: 'embedding', inputDim: 10, outputDim: 8 },
      { type: 'positionEmbedding', sequenceLength: 16 },
      { type: 'multiHeadAttention', numHeads: 2, keyDim: 3, causal: true, dropout: 0.1 },
      { type: 'flatten' },
      SOFTMAX_OUT,
    ],
    { tokens: 10 },
  ],
];

describe('training engine breadth (wasm, one epoch each)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('the layer cases cover every layer type in the catalogue', () => {
    const used = new Set(LAYER_CASES.flatMap(([, layers]) => layers.map((layer) => layer.type)));
    expect(Object.keys(LAYER_CATALOGUE).filter((type) => !used.has(type))).toEqual([]);
  });

  it.each(LAYER_CASES)('layers: %s', async (_, layers, options) => {
    await trainOnce({
      layers,
      data: syntheticData({ inputSize: 16, task: 'classification', tokens: options?.tokens }),
    });
  });

  it('refuses embedding inputs that are not token ids, naming the layer', async () => {
    const data = syntheticData({ inputSize: 16, task: 'classification' });
    await expect(
      trainOnce({
        layers: [{ type: 'embedding', inputDim: 10, outputDim: 4 }, { type: 'flatten' }, SOFTMAX_OUT],
        data,
      }),
    ).rejects.toThrow(/spec.layers\[0\] \(embedding\) takes the features as token ids.*use "none"/);
  });

  const lossCases: [string, PreparedData, LayerSpec][] = LOSSES.map((loss) => {
    if (loss === 'binaryCrossentropy')
      return [
        loss,
        syntheticData({ inputSize: 6, task: 'classification', encoding: 'binary' }),
        { type: 'dense', units: 1, activation: 'sigmoid' },
      ];
    if (loss === 'categoricalCrossentropy')
      return [loss, syntheticData({ inputSize: 6, task: 'classification', encoding: 'onehot' }), SOFTMAX_OUT];
    if (loss === 'sparseCategoricalCrossentropy')
      return [loss, syntheticData({ inputSize: 6, task: 'classification' }), SOFTMAX_OUT];
    return [loss, syntheticData({ inputSize: 6, task: 'regression' }), { type: 'dense', units: 1 }];
  });
  it.each(lossCases)('loss: %s, with every metric that applies', async (loss, data, output) => {
    const classification = data.preprocessing.target.task === 'classification';
    const metrics: Metric[] = classification ? [...METRICS] : ['mse', 'mae'];
    const [report] = await trainOnce({
      layers: [{ type: 'dense', units: 8, activation: 'relu' }, output],
      loss,
      metrics,
      data,
    });
    const expected = ['loss', 'val_loss', 'lr', ...metrics, ...metrics.map((metric) => `val_${metric}`)];
    expect(Object.keys(report.metrics).sort()).toEqual(expected.sort());
    for (const name of ['accuracy', 'precision', 'recall', 'f1']) {
      if (classification) expect(report.metrics[name]).toBeGreaterThanOrEqual(0);
      if (classification) expect(report.metrics[name]).toBeLessThanOrEqual(1);
    }
  });

  it.each(OPTIMIZERS.map((type) => [type]))('optimizer: %s', async (type) => {
    const optimizer: Record<string, unknown> = { type, learningRate: 0.01 };
    if (type === 'momentum') Object.assign(optimizer, { momentum: 0.9, useNesterov: true });
    if (type === 'rmsprop') Object.assign(optimizer, { momentum: 0.5, centered: true });
    await trainOnce({
      layers: [{ type: 'dense', units: 8, activation: 'relu' }, SOFTMAX_OUT],
      optimizer,
      data: syntheticData({ inputSize: 6, task: 'classification' }),
    });
  });

  it.each(LR_SCHEDULES.map((type) => [type]))('lrSchedule: %s with warmupSteps, lr logged', async (type) => {
    const lrSchedule = {
      type,
      warmupSteps: 3,
      decaySteps: 2,
      decayRate: 0.5,
      stepSize: 2,
      endLearningRate: 0.001,
      alpha: 0.1,
    };
    const reports = await trainOnce({
      layers: [{ type: 'dense', units: 8, activation: 'relu' }, SOFTMAX_OUT],
      data: syntheticData({ inputSize: 6, task: 'classification' }),
      training: { epochs: 3, lrSchedule },
    });
    // 64 training rows, batch 16: 4 steps an epoch; the lr logged is that of the epoch's last step.
    reports.forEach((report, index) => {
      expect(report.metrics.lr).toBeCloseTo(learningRateAt(0.01, lrSchedule, (index + 1) * 4 - 1, 12), 10);
    });
    expect(reports[0].metrics.lr).not.toBe(reports[2].metrics.lr);
  });
});

describe('classificationScores', () => {
  it('binary: the second label is the positive class', () => {
    // actual:    1 1 1 0 0 0 1 0
    // predicted: 1 0 1 1 0 0 1 1  → TP 3, FP 2, FN 1: precision 3/5, recall 3/4, f1 2·.6·.75/1.35
    const scores = classificationScores(
      Int32Array.from([1, 0, 1, 1, 0, 0, 1, 1]),
      Int32Array.from([1, 1, 1, 0, 0, 0, 1, 0]),
      2,
    );
    expect(scores.precision).toBeCloseTo(0.6, 12);
    expect(scores.recall).toBeCloseTo(0.75, 12);
    expect(scores.f1).toBeCloseTo((2 * 0.6 * 0.75) / 1.35, 12);
  });

  it('multi-class: macro average of per-class scores', () => {
    // actual:    0 0 0 1 1 2 2 2 2
    // predicted: 0 1 0 1 2 2 2 0 2
    // class 0: TP 2, predicted 3, actual 3 → p 2/3, r 2/3, f1 2/3
    // class 1: TP 1, predicted 2, actual 2 → p 1/2, r 1/2, f1 1/2
    // class 2: TP 3, predicted 4, actual 4 → p 3/4, r 3/4, f1 3/4
    const predicted = Int32Array.from([0, 1, 0, 1, 2, 2, 2, 0, 2]);
    const actual = Int32Array.from([0, 0, 0, 1, 1, 2, 2, 2, 2]);
    const scores = classificationScores(predicted, actual, 3);
    expect(scores.precision).toBeCloseTo((2 / 3 + 1 / 2 + 3 / 4) / 3, 12);
    expect(scores.recall).toBeCloseTo((2 / 3 + 1 / 2 + 3 / 4) / 3, 12);
    expect(scores.f1).toBeCloseTo((2 / 3 + 1 / 2 + 3 / 4) / 3, 12);
  });

  it('multi-class with unequal precision and recall, and a class absent from the set', () => {
    // 4 classes; class 3 neither occurs nor is predicted, so the macro average is over classes 0..2.
    // actual:    0 0 1 1 1 2
    // predicted: 0 1 1 1 2 2
    // class 0: p 1/1, r 1/2, f1 2/3;  class 1: p 2/3, r 2/3, f1 2/3;  class 2: p 1/2, r 1/1, f1 2/3
    const scores = classificationScores(Int32Array.from([0, 1, 1, 1, 2, 2]), Int32Array.from([0, 0, 1, 1, 1, 2]), 4);
    expect(scores.precision).toBeCloseTo((1 + 2 / 3 + 1 / 2) / 3, 12);
    expect(scores.recall).toBeCloseTo((1 / 2 + 2 / 3 + 1) / 3, 12);
    expect(scores.f1).toBeCloseTo(2 / 3, 12);
  });

  it('a class never predicted scores 0 precision', () => {
    const scores = classificationScores(Int32Array.from([0, 0, 0, 0]), Int32Array.from([0, 0, 1, 1]), 2);
    expect(scores).toEqual({ precision: 0, recall: 0, f1: 0 });
  });
});
