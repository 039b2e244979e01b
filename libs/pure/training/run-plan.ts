import { type ColumnStats, isStringType } from '#libs/pure/data';

import {
  CLASSIFICATION_LOSSES,
  collectReferences,
  type ModelSpec,
  resolveModelSpec,
  substituteHyperparameters,
} from './model-spec.js';
import { estimateParams } from './param-estimate.js';
import { MAX_CLASSES } from './preprocessing.js';
import { resolveTrainingConfig, type TrainingConfig } from './training-config.js';
import { describe, isBuiltInName, isPlainObject, SpecError } from './validation.js';

export interface RunPlan {
  /** Parameters the model will have (one-hot widths estimated from the dataset's distinct counts). */
  params: number;
  spec: ModelSpec;
  training: TrainingConfig;
  hyperparameters: Record<string, unknown>;
}

/**
 * Everything that can be known about a run before it trains: the spec with its values, the training
 * config with defaults, and whether the two fit the dataset's columns. startRun and every sweep trial
 * go through here, so a run that is queued can only fail on what the data itself holds.
 */
export function planRun(
  rawSpec: unknown,
  rawHyperparameters: unknown,
  rawTraining: unknown,
  columns: ColumnStats[],
  defaultSeed: number,
  maxParams = Infinity,
): RunPlan {
  const hyperparameters = rawHyperparameters ?? {};
  if (!isPlainObject(hyperparameters))
    throw new SpecError(`hyperparameters must be an object of name → value, got ${describe(hyperparameters)}`);
  const references = collectReferences(rawSpec);
  collectReferences(referableTraining(rawTraining), references);
  for (const name of Object.keys(hyperparameters)) {
    if (isBuiltInName(name)) {
      throw new SpecError(`hyperparameters.${name}: "${name}" is a name JavaScript reserves; choose another`);
    }
    if (!references.has(name)) {
      const used = [...references].map((reference) => `$${reference}`).join(', ') || 'none';
      throw new SpecError(`hyperparameters.${name} is not used by the model spec (it refers to: ${used})`);
    }
  }
  const spec = resolveModelSpec(rawSpec, hyperparameters);
  const training = resolveTrainingConfig(
    substituteTrainingReferences(rawTraining, hyperparameters),
    columns,
    defaultSeed,
  );
  checkTarget(spec, training, columns);
  const byName = new Map(columns.map((column) => [column.name, column]));
  const inputSize = training.features.reduce((width, name) => {
    const column = byName.get(name)!;
    return width + (isStringType(column.type) ? Math.max(1, column.distinct ?? 1) : 1);
  }, 0);
  const params = estimateParams(spec, modelInputShape(training) ?? inputSize);
  if (params > maxParams)
    throw new SpecError(
      `the model would have ${params} parameters; at most ${maxParams} are allowed (MAX_MODEL_PARAMS)`,
    );
  return { params, spec, training, hyperparameters };
}

/**
 * The plan of a run from what it stored: its training config was resolved at startRun, references in training.image
 * and training.text already filled in, so only the spec's references still take hyperparameters.
 */
export function planStoredRun(
  rawSpec: unknown,
  hyperparameters: Record<string, unknown>,
  storedTraining: TrainingConfig,
  columns: ColumnStats[],
): RunPlan {
  const specReferences = collectReferences(rawSpec);
  const forSpec = Object.fromEntries(
    Object.entries(hyperparameters ?? {}).filter(([name]) => specReferences.has(name)),
  );
  return { ...planRun(rawSpec, forSpec, storedTraining, columns, storedTraining.seed), hyperparameters };
}

/** The parts of a training config that may hold "$name" references (sweeps over augmentation, sequence length, ...). */
const REFERABLE_TRAINING_KEYS = ['image', 'text'];

export function referableTraining(rawTraining: unknown): unknown {
  if (!isPlainObject(rawTraining)) return undefined;
  return REFERABLE_TRAINING_KEYS.map((key) => rawTraining[key]);
}

function substituteTrainingReferences(rawTraining: unknown, hyperparameters: Record<string, unknown>): unknown {
  if (!isPlainObject(rawTraining)) return rawTraining;
  const substituted = { ...rawTraining };
  for (const key of REFERABLE_TRAINING_KEYS) {
    if (substituted[key] !== undefined)
      substituted[key] = substituteHyperparameters(substituted[key], hyperparameters, `training.${key}`);
  }
  return substituted;
}

/** The model's input shape (batch left out) when it is not a flat vector of encoded features. */
export function modelInputShape(training: Pick<TrainingConfig, 'text' | 'image'>): number[] | undefined {
  if (training.image) return [training.image.height, training.image.width, training.image.channels];
  if (training.text) return [training.text.sequenceLength];
  return undefined;
}

function checkTarget(spec: ModelSpec, training: TrainingConfig, columns: ColumnStats[]): void {
  const target = columns.find((column) => column.name === training.target)!;
  const classification = CLASSIFICATION_LOSSES.includes(spec.loss);
  if (isStringType(target.type) && !classification) {
    throw new SpecError(
      `training.target "${target.name}" holds text labels, so the loss must be a classification loss ` +
        `(sparseCategoricalCrossentropy, categoricalCrossentropy or binaryCrossentropy), not ${spec.loss}`,
    );
  }
  if (target.type === 'DATE')
    throw new SpecError(
      `training.target "${target.name}" is a DATE column; a target must be a number, boolean or label`,
    );
  if (target.distinct !== null && target.distinct < 2) {
    throw new SpecError(`training.target "${target.name}" is constant (a single value); there is nothing to learn`);
  }
  if (classification && target.distinct !== null && target.distinct > MAX_CLASSES) {
    throw new SpecError(
      `training.target "${target.name}" has ${target.distinct} classes; at most ${MAX_CLASSES} are supported`,
    );
  }
  if (spec.loss === 'binaryCrossentropy' && target.distinct !== null && target.distinct !== 2) {
    throw new SpecError(
      `spec.loss binaryCrossentropy needs exactly 2 classes, but training.target "${target.name}" has ` +
        `${target.distinct}`,
    );
  }
  const last = spec.layers[spec.layers.length - 1];
  if (classification && last.type === 'dense' && typeof last.units === 'number' && target.distinct !== null) {
    const expected = spec.loss === 'binaryCrossentropy' ? 1 : target.distinct;
    if (last.units !== expected) {
      throw new SpecError(
        `spec.layers[${spec.layers.length - 1}] (dense).units is ${last.units}, but training.target ` +
          `"${target.name}" has ${target.distinct} classes, so the output needs ${expected} unit(s)`,
      );
    }
  }
  if (!classification && last.type === 'dense' && typeof last.units === 'number' && last.units !== 1) {
    throw new SpecError(
      `spec.layers[${spec.layers.length - 1}] (dense).units is ${last.units}, but a regression target needs 1 ` +
        `output unit`,
    );
  }
}
