import type { ColumnStats } from '../../datasets/src/index.js';
import { SpecError, checkKeys, describe, isPlainObject, numberAt, oneOf } from './validation.js';

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
}

const KEYS = ['target', 'features', 'epochs', 'batchSize', 'validationSplit', 'shuffle', 'seed', 'missing', 'normalize', 'earlyStopping', 'lrSchedule', 'checkpoint'];
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
export function checkpointScore(metrics: unknown, checkpoint: Pick<TrainingConfig['checkpoint'], 'monitor' | 'mode'>): number {
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
  checkKeys(raw, ['type', 'decayRate', 'decaySteps', 'stepSize', 'endLearningRate', 'totalSteps', 'alpha', 'warmupSteps'], 'training.lrSchedule');
  const schedule: LrScheduleConfig = { type: oneOf(raw.type, LR_SCHEDULES, 'training.lrSchedule.type') };
  for (const key of ['decaySteps', 'stepSize', 'totalSteps', 'warmupSteps'] as const) {
    if (raw[key] !== undefined) schedule[key] = numberAt(raw[key], `training.lrSchedule.${key}`, { integer: true, min: key === 'warmupSteps' ? 0 : 1 });
  }
  for (const key of ['decayRate', 'endLearningRate', 'alpha'] as const) {
    if (raw[key] !== undefined) schedule[key] = numberAt(raw[key], `training.lrSchedule.${key}`, { min: 0 });
  }
  return schedule;
}

/**
 * Checks a run's training config against the dataset's columns and applies the defaults.
 * The result is what the run stores and what the worker trains with.
 */
export function resolveTrainingConfig(raw: unknown, columns: ColumnStats[], defaultSeed: number): TrainingConfig {
  if (!isPlainObject(raw)) throw new SpecError(`training must be an object, got ${describe(raw)}`);
  checkKeys(raw, KEYS, 'training');
  const byName = new Map(columns.map((column) => [column.name, column]));
  if (typeof raw.target !== 'string' || !raw.target) throw new SpecError('training.target is required: the name of the column to predict');
  const target = raw.target;
  if (!byName.has(target)) throw new SpecError(`training.target: unknown column "${target}" (columns: ${columnNames(columns)})`);

  let features: string[];
  if (raw.features === undefined || raw.features === null) {
    features = columns.map((column) => column.name).filter((name) => name !== target);
  } else {
    if (!Array.isArray(raw.features) || raw.features.some((feature) => typeof feature !== 'string')) {
      throw new SpecError(`training.features must be a list of column names, got ${describe(raw.features)}`);
    }
    features = raw.features as string[];
    for (const [index, feature] of features.entries()) {
      if (!byName.has(feature)) throw new SpecError(`training.features[${index}]: unknown column "${feature}" (columns: ${columnNames(columns)})`);
      if (feature === target) throw new SpecError(`training.features[${index}]: "${feature}" is the target; a feature cannot also be the target`);
    }
    if (new Set(features).size !== features.length) throw new SpecError('training.features lists a column twice');
  }
  if (features.length === 0) throw new SpecError('training.features: no feature columns are left besides the target');

  const validationSplit = raw.validationSplit === undefined ? 0.2 : numberAt(raw.validationSplit, 'training.validationSplit', { min: 0, max: 0.9 });
  const defaultMonitor = validationSplit > 0 ? 'val_loss' : 'loss';

  let earlyStopping: EarlyStoppingConfig | null = null;
  if (raw.earlyStopping !== undefined && raw.earlyStopping !== null) {
    const es = raw.earlyStopping;
    if (!isPlainObject(es)) throw new SpecError(`training.earlyStopping must be an object, got ${describe(es)}`);
    checkKeys(es, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBest'], 'training.earlyStopping');
    const monitor = es.monitor === undefined ? defaultMonitor : String(es.monitor);
    earlyStopping = {
      monitor,
      patience: es.patience === undefined ? 5 : numberAt(es.patience, 'training.earlyStopping.patience', { integer: true, min: 0 }),
      minDelta: es.minDelta === undefined ? 0 : numberAt(es.minDelta, 'training.earlyStopping.minDelta', { min: 0 }),
      mode: es.mode === undefined || es.mode === 'auto' ? monitorMode(monitor) : oneOf(es.mode, ['min', 'max'] as const, 'training.earlyStopping.mode'),
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
      mode: cp.mode === undefined ? monitorMode(monitor) : oneOf(cp.mode, ['min', 'max'] as const, 'training.checkpoint.mode'),
    };
  }

  if (raw.shuffle !== undefined && typeof raw.shuffle !== 'boolean') throw new SpecError(`training.shuffle must be true or false, got ${describe(raw.shuffle)}`);
  return {
    target,
    features,
    epochs: raw.epochs === undefined ? 10 : numberAt(raw.epochs, 'training.epochs', { integer: true, min: 1, max: MAX_EPOCHS }),
    batchSize: raw.batchSize === undefined ? 32 : numberAt(raw.batchSize, 'training.batchSize', { integer: true, min: 1, max: 65_536 }),
    validationSplit,
    shuffle: raw.shuffle === undefined ? true : raw.shuffle,
    seed: raw.seed === undefined ? defaultSeed : numberAt(raw.seed, 'training.seed', { integer: true, min: 0, max: 2 ** 31 - 1 }),
    missing: raw.missing === undefined ? 'drop' : oneOf(raw.missing, ['drop', 'mean'] as const, 'training.missing'),
    normalize: raw.normalize === undefined ? 'standard' : oneOf(raw.normalize, ['standard', 'minmax', 'none'] as const, 'training.normalize'),
    earlyStopping,
    lrSchedule: lrSchedule(raw.lrSchedule),
    checkpoint,
  };
}
