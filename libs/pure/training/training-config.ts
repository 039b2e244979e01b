import type { ColumnStats } from '#libs/pure/data';

import type { AugmentConfig } from './images/augment.js';
import type { TokenizeMode } from './text/tokenizer.js';
import { checkKeys, describe, isPlainObject, numberAt, oneOf, SpecError } from './validation.js';

export const LR_SCHEDULES = ['exponential', 'step', 'linear', 'cosine'] as const;

export interface LrScheduleConfig {
  type: (typeof LR_SCHEDULES)[number];
  decayRate?: number;
  decaySteps?: number;
  stepSize?: number;
  endLearningRate?: number;
  totalSteps?: number;
  alpha?: number;
  warmupSteps?: number;
}

export interface EarlyStoppingConfig {
  monitor: string;
  patience: number;
  minDelta: number;
  mode: 'min' | 'max';
  restoreBest: boolean;
}

/** `training.text`: the one feature column is free text, turned into token ids. */
export interface TextConfig {
  tokenize: TokenizeMode;
  sequenceLength: number;
  maxTokens: number;
  lowercase: boolean;
}

/** `training.image`: the images dataset's images, resized, as the model's [height, width, channels] input. */
export interface ImageConfig {
  width: number;
  height: number;
  channels: 1 | 3;
  augment: AugmentConfig | null;
}

export interface TrainingConfig {
  target: string;
  features: string[];
  epochs: number;
  batchSize: number;
  validationSplit: number;
  shuffle: boolean;
  seed: number;
  missing: 'drop' | 'mean';
  normalize: 'standard' | 'minmax' | 'none';
  earlyStopping: EarlyStoppingConfig | null;
  lrSchedule: LrScheduleConfig | null;
  checkpoint: { every: number; keep: number; monitor: string; mode: 'min' | 'max' };
  text?: TextConfig | null;
  image?: ImageConfig | null;
}

const KEYS = [
  'target',
  'features',
  'epochs',
  'batchSize',
  'validationSplit',
  'shuffle',
  'seed',
  'missing',
  'normalize',
  'earlyStopping',
  'lrSchedule',
  'checkpoint',
  'text',
  'image',
];
/** Largest side of training.image: the decoded cache holds width × height × channels bytes an image. */
export const MAX_IMAGE_INPUT_SIDE = 1024;
export const MAX_SEQUENCE_LENGTH = 4096;
export const MAX_EPOCHS = 10_000;

/** Loss-like metrics get smaller as they improve; everything else (accuracy, f1, ...) larger. */
export function monitorMode(metric: string): 'min' | 'max' {
  const base = metric.replace(/^val_/, '');
  return ['loss', 'mse', 'mae', 'lr'].includes(base) ? 'min' : 'max';
}

/**
 * How a checkpoint ranks under the run's checkpoint config: lower is better, Infinity when its
 * metrics lack the monitored one. The API's best checkpoint and the worker's pruning both rank by it.
 */
export function checkpointScore(
  metrics: unknown,
  checkpoint: Pick<TrainingConfig['checkpoint'], 'monitor' | 'mode'>,
): number {
  const value = (metrics as Record<string, unknown> | null)?.[checkpoint.monitor];
  if (typeof value !== 'number' || Number.isNaN(value)) return Infinity;
  return checkpoint.mode === 'min' ? value : -value;
}

function columnNames(columns: ColumnStats[]): string {
  const names = columns.map((column) => JSON.stringify(column.name));
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
}

function lrSchedule(raw: unknown): LrScheduleConfig | null {
  if (raw === undefined || raw === null) return null;
  if (!isPlainObject(raw)) throw new SpecError(`training.lrSchedule must be an object, got ${describe(raw)}`);
  checkKeys(
    raw,
    ['type', 'decayRate', 'decaySteps', 'stepSize', 'endLearningRate', 'totalSteps', 'alpha', 'warmupSteps'],
    'training.lrSchedule',
  );
  const schedule: LrScheduleConfig = { type: oneOf(raw.type, LR_SCHEDULES, 'training.lrSchedule.type') };
  for (const key of ['decaySteps', 'stepSize', 'totalSteps', 'warmupSteps'] as const) {
    if (raw[key] !== undefined)
      schedule[key] = numberAt(raw[key], `training.lrSchedule.${key}`, {
        integer: true,
        min: key === 'warmupSteps' ? 0 : 1,
      });
  }
  for (const key of ['decayRate', 'endLearningRate', 'alpha'] as const) {
    if (raw[key] !== undefined) schedule[key] = numberAt(raw[key], `training.lrSchedule.${key}`, { min: 0 });
  }
  return schedule;
}

function textConfig(raw: unknown, features: string[], byName: Map<string, ColumnStats>): TextConfig | null {
  if (raw === undefined || raw === null) return null;
  if (!isPlainObject(raw)) throw new SpecError(`training.text must be an object, got ${describe(raw)}`);
  checkKeys(raw, ['tokenize', 'sequenceLength', 'maxTokens', 'lowercase'], 'training.text');
  if (features.length !== 1) {
    throw new SpecError(
      `training.text needs training.features to name exactly one text column, got ${features.length} ` +
        `(${features.map((f) => JSON.stringify(f)).join(', ')})`,
    );
  }
  const column = byName.get(features[0])!;
  if (column.type !== 'STRING' && column.type !== 'TEXT') {
    throw new SpecError(
      `training.text: column "${column.name}" is ${column.type}; text must come from a STRING or TEXT column`,
    );
  }
  if (raw.sequenceLength === undefined)
    throw new SpecError(
      'training.text.sequenceLength is required: the number of tokens a text becomes (longer ones are cut)',
    );
  if (raw.lowercase !== undefined && typeof raw.lowercase !== 'boolean')
    throw new SpecError(`training.text.lowercase must be true or false, got ${describe(raw.lowercase)}`);
  return {
    tokenize:
      raw.tokenize === undefined ? 'word' : oneOf(raw.tokenize, ['char', 'word'] as const, 'training.text.tokenize'),
    sequenceLength: numberAt(raw.sequenceLength, 'training.text.sequenceLength', {
      integer: true,
      min: 1,
      max: MAX_SEQUENCE_LENGTH,
    }),
    maxTokens:
      raw.maxTokens === undefined
        ? 20_000
        : numberAt(raw.maxTokens, 'training.text.maxTokens', { integer: true, min: 3, max: 1_000_000 }),
    lowercase: raw.lowercase === undefined ? true : raw.lowercase,
  };
}

function imageConfig(raw: unknown): ImageConfig {
  if (!isPlainObject(raw)) throw new SpecError(`training.image must be an object, got ${describe(raw)}`);
  checkKeys(raw, ['width', 'height', 'channels', 'augment'], 'training.image');
  for (const key of ['width', 'height'] as const) {
    if (raw[key] === undefined)
      throw new SpecError(`training.image.${key} is required: images are resized to training.image.width × height`);
  }
  const channels =
    raw.channels === undefined
      ? 3
      : numberAt(raw.channels, 'training.image.channels', { integer: true, min: 1, max: 3 });
  if (channels !== 1 && channels !== 3)
    throw new SpecError(`training.image.channels must be 1 (gray) or 3 (RGB), got ${channels}`);
  let augment: AugmentConfig | null = null;
  if (raw.augment !== undefined && raw.augment !== null) {
    const a = raw.augment;
    if (!isPlainObject(a)) throw new SpecError(`training.image.augment must be an object, got ${describe(a)}`);
    checkKeys(a, ['flipHorizontal', 'rotate', 'translate', 'zoom'], 'training.image.augment');
    if (a.flipHorizontal !== undefined && typeof a.flipHorizontal !== 'boolean') {
      throw new SpecError(
        `training.image.augment.flipHorizontal must be true or false, got ${describe(a.flipHorizontal)}`,
      );
    }
    augment = {
      flipHorizontal: a.flipHorizontal === true,
      rotate: a.rotate === undefined ? 0 : numberAt(a.rotate, 'training.image.augment.rotate', { min: 0, max: 180 }),
      translate:
        a.translate === undefined ? 0 : numberAt(a.translate, 'training.image.augment.translate', { min: 0, max: 0.5 }),
      zoom: a.zoom === undefined ? 0 : numberAt(a.zoom, 'training.image.augment.zoom', { min: 0, max: 0.9 }),
    };
  }
  return {
    width: numberAt(raw.width, 'training.image.width', { integer: true, min: 1, max: MAX_IMAGE_INPUT_SIDE }),
    height: numberAt(raw.height, 'training.image.height', { integer: true, min: 1, max: MAX_IMAGE_INPUT_SIDE }),
    channels,
    augment,
  };
}

/** An images dataset's `split` column (train / validation), which decides its validation set; undefined when none. */
export function imageSplitColumn(
  columns: ColumnStats[],
  training: Pick<TrainingConfig, 'image' | 'target'>,
): string | undefined {
  return training.image && training.target !== 'split' && columns.some((column) => column.name === 'split')
    ? 'split'
    : undefined;
}

/**
 * Checks a run's training config against the dataset's columns and applies the defaults.
 * The result is what the run stores and what the worker trains with.
 */
export function resolveTrainingConfig(raw: unknown, columns: ColumnStats[], defaultSeed: number): TrainingConfig {
  if (!isPlainObject(raw)) throw new SpecError(`training must be an object, got ${describe(raw)}`);
  checkKeys(raw, KEYS, 'training');
  const byName = new Map(columns.map((column) => [column.name, column]));
  if (typeof raw.target !== 'string' || !raw.target)
    throw new SpecError('training.target is required: the name of the column to predict');
  const target = raw.target;
  if (!byName.has(target))
    throw new SpecError(`training.target: unknown column "${target}" (columns: ${columnNames(columns)})`);

  // An images dataset: its one feature is the IMAGE column; `split`, when there, chooses the validation set.
  const imageColumn = columns.find((column) => column.type === 'IMAGE');
  if (imageColumn) {
    if (raw.text !== undefined && raw.text !== null)
      throw new SpecError(
        `training.text: this is an images dataset (column "${imageColumn.name}" holds images); use training.image`,
      );
    if (raw.image === undefined || raw.image === null)
      throw new SpecError('training.image is required for an images dataset: {"width", "height", "channels"}');
  } else if (raw.image !== undefined && raw.image !== null) {
    throw new SpecError('training.image needs an images dataset (a ZIP of images); this dataset has no IMAGE column');
  }

  let features: string[];
  if (imageColumn && (raw.features === undefined || raw.features === null)) {
    features = [imageColumn.name];
  } else if (raw.features === undefined || raw.features === null) {
    features = columns.map((column) => column.name).filter((name) => name !== target);
  } else {
    if (!Array.isArray(raw.features) || raw.features.some((feature) => typeof feature !== 'string')) {
      throw new SpecError(`training.features must be a list of column names, got ${describe(raw.features)}`);
    }
    features = raw.features as string[];
    for (const [index, feature] of features.entries()) {
      if (!byName.has(feature))
        throw new SpecError(
          `training.features[${index}]: unknown column "${feature}" (columns: ${columnNames(columns)})`,
        );
      if (feature === target)
        throw new SpecError(
          `training.features[${index}]: "${feature}" is the target; a feature cannot also be the target`,
        );
    }
    if (new Set(features).size !== features.length) throw new SpecError('training.features lists a column twice');
  }
  if (features.length === 0) throw new SpecError('training.features: no feature columns are left besides the target');
  if (imageColumn && (features.length !== 1 || features[0] !== imageColumn.name)) {
    throw new SpecError(
      `training.features: an images dataset trains on its images alone; use ["${imageColumn.name}"] or leave ` +
        `features out`,
    );
  }
  if (!imageColumn && features.some((name) => byName.get(name)!.type === 'IMAGE'))
    throw new SpecError('training.features: an IMAGE column needs training.image');
  const text = textConfig(raw.text, features, byName);

  const validationSplit =
    raw.validationSplit === undefined
      ? 0.2
      : numberAt(raw.validationSplit, 'training.validationSplit', { min: 0, max: 0.9 });
  const defaultMonitor = validationSplit > 0 ? 'val_loss' : 'loss';

  let earlyStopping: EarlyStoppingConfig | null = null;
  if (raw.earlyStopping !== undefined && raw.earlyStopping !== null) {
    const es = raw.earlyStopping;
    if (!isPlainObject(es)) throw new SpecError(`training.earlyStopping must be an object, got ${describe(es)}`);
    checkKeys(es, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBest'], 'training.earlyStopping');
    const monitor = es.monitor === undefined ? defaultMonitor : String(es.monitor);
    earlyStopping = {
      monitor,
      patience:
        es.patience === undefined
          ? 5
          : numberAt(es.patience, 'training.earlyStopping.patience', { integer: true, min: 0 }),
      minDelta: es.minDelta === undefined ? 0 : numberAt(es.minDelta, 'training.earlyStopping.minDelta', { min: 0 }),
      mode:
        es.mode === undefined || es.mode === 'auto'
          ? monitorMode(monitor)
          : oneOf(es.mode, ['min', 'max'] as const, 'training.earlyStopping.mode'),
      restoreBest: es.restoreBest === undefined ? false : es.restoreBest === true,
    };
  }

  let checkpoint = { every: 1, keep: 3, monitor: defaultMonitor, mode: monitorMode(defaultMonitor) };
  if (raw.checkpoint !== undefined && raw.checkpoint !== null) {
    const cp = raw.checkpoint;
    if (!isPlainObject(cp)) throw new SpecError(`training.checkpoint must be an object, got ${describe(cp)}`);
    checkKeys(cp, ['every', 'keep', 'monitor', 'mode'], 'training.checkpoint');
    const monitor = cp.monitor === undefined ? defaultMonitor : String(cp.monitor);
    checkpoint = {
      every: cp.every === undefined ? 1 : numberAt(cp.every, 'training.checkpoint.every', { integer: true, min: 1 }),
      keep: cp.keep === undefined ? 3 : numberAt(cp.keep, 'training.checkpoint.keep', { integer: true, min: 1 }),
      monitor,
      mode:
        cp.mode === undefined
          ? monitorMode(monitor)
          : oneOf(cp.mode, ['min', 'max'] as const, 'training.checkpoint.mode'),
    };
  }

  if (raw.shuffle !== undefined && typeof raw.shuffle !== 'boolean')
    throw new SpecError(`training.shuffle must be true or false, got ${describe(raw.shuffle)}`);
  return {
    target,
    features,
    epochs:
      raw.epochs === undefined
        ? 10
        : numberAt(raw.epochs, 'training.epochs', { integer: true, min: 1, max: MAX_EPOCHS }),
    batchSize:
      raw.batchSize === undefined
        ? 32
        : numberAt(raw.batchSize, 'training.batchSize', { integer: true, min: 1, max: 65_536 }),
    validationSplit,
    shuffle: raw.shuffle === undefined ? true : raw.shuffle,
    seed:
      raw.seed === undefined
        ? defaultSeed
        : numberAt(raw.seed, 'training.seed', { integer: true, min: 0, max: 2 ** 31 - 1 }),
    missing: raw.missing === undefined ? 'drop' : oneOf(raw.missing, ['drop', 'mean'] as const, 'training.missing'),
    normalize:
      raw.normalize === undefined
        ? 'standard'
        : oneOf(raw.normalize, ['standard', 'minmax', 'none'] as const, 'training.normalize'),
    earlyStopping,
    lrSchedule: lrSchedule(raw.lrSchedule),
    checkpoint,
    text,
    image: imageColumn ? imageConfig(raw.image) : null,
  };
}
