import { type Cell, type ColumnStats, type ColumnType, isMissing, isStringType, typedCell } from '../../datasets/src/index.js';
import type { AugmentConfig } from './images/augment.js';
import { decodeImageInput } from './images/image-input.js';
import { PredictInputError } from './predict-input-error.js';
import type { ImageStore } from './images/image-store.js';
import { type TokenizeMode, buildVocabulary, encodeText, vocabularyIds } from './text/tokenizer.js';
import { CLASSIFICATION_LOSSES, type Loss } from './model-spec.js';
import { createRng, shuffleInPlace } from './random.js';
import { type TrainingConfig, imageSplitColumn } from './training-config.js';
import { SpecError } from './validation.js';

export { PredictInputError };

export const MAX_CATEGORIES = 1_000;
export const MAX_CLASSES = 1_000;

export type FeatureEncoding =
  | { name: string; kind: 'numeric'; sourceType: 'NUMBER' | 'BOOLEAN' | 'DATE'; fill: number; shift: number; scale: number }
  | { name: string; kind: 'onehot'; categories: string[] }
  /** training.text: token ids; `vocabulary[i]` is id i + 2 (0 padding, 1 out of vocabulary). */
  | { name: string; kind: 'text'; tokenize: TokenizeMode; sequenceLength: number; lowercase: boolean; vocabulary: string[] }
  /** training.image: the image resized to width × height × channels, scaled to [0, 1]. */
  | { name: string; kind: 'image'; width: number; height: number; channels: 1 | 3 };

export type TargetEncoding =
  | { name: string; task: 'classification'; encoding: 'sparse' | 'onehot' | 'binary'; sourceType: ColumnType; labels: Exclude<Cell, null>[] }
  | { name: string; task: 'regression'; sourceType: ColumnType };

/** Everything inference needs to turn a raw row into the model's input, stored with the run and in every checkpoint. */
export interface Preprocessing {
  version: 1;
  features: FeatureEncoding[];
  inputSize: number;
  /** The model's input shape without the batch, when it is not [inputSize]: [sequenceLength], [height, width, channels]. */
  inputShape?: number[];
  target: TargetEncoding;
  missing: 'drop' | 'mean';
  normalize: 'standard' | 'minmax' | 'none';
}

export interface PreparedData {
  preprocessing: Preprocessing;
  x: Float32Array;
  y: Float32Array;
  /** Columns of y per row: 1 for sparse labels and regression, the class count for one-hot. */
  yWidth: number;
  trainRows: number;
  validationRows: number;
  droppedRows: number;
  /**
   * An images dataset: `x` is empty and the pixels stay uint8 in `store`; position p of the prepared order (training
   * rows, then validation rows) is the store's image `rowOf[p]`. Batches are scaled (and augmented) as they are drawn.
   */
  images?: { store: ImageStore; rowOf: Int32Array; shape: [number, number, number]; augment: AugmentConfig | null };
}

function outputEncoding(loss: Loss): 'sparse' | 'onehot' | 'binary' {
  return loss === 'categoricalCrossentropy' ? 'onehot' : loss === 'binaryCrossentropy' ? 'binary' : 'sparse';
}

function sortLabels(values: Exclude<Cell, null>[]): Exclude<Cell, null>[] {
  return values.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
}

function categoryKey(cell: Cell): string {
  return typeof cell === 'string' ? cell.trim() : String(cell);
}

/** The value of one feature for one typed cell, before normalisation; undefined when missing. */
function rawNumeric(cell: Cell, sourceType: 'NUMBER' | 'BOOLEAN' | 'DATE'): number | undefined {
  const value = typedCell(cell, sourceType);
  if (value === null) return undefined;
  return typeof value === 'boolean' ? Number(value) : (value as number);
}

/**
 * Fits the preprocessing on the training rows (normalisation statistics never see the validation split)
 * and encodes every row. `rows` are the dataset's rows as read from the file.
 */
export function prepareData(rows: Record<string, Cell>[], columns: ColumnStats[], training: TrainingConfig, loss: Loss, images?: ImageStore): PreparedData {
  const typeOf = new Map(columns.map((column) => [column.name, column.type]));
  const targetType = typeOf.get(training.target)!;
  const classification = CLASSIFICATION_LOSSES.includes(loss) || isStringType(targetType);
  if (classification && !CLASSIFICATION_LOSSES.includes(loss)) {
    throw new SpecError(`training.target "${training.target}" holds text, so this is classification, but the loss ${loss} is for regression; use sparseCategoricalCrossentropy`);
  }
  if (!classification && targetType === 'DATE') throw new SpecError(`training.target "${training.target}" is a DATE column; a target must be a number, boolean or label`);

  // Rows missing the target are always dropped; rows missing a feature only under missing=drop (a text or image feature
  // has no mean to fill: an empty text is a text, a missing image is dropped).
  const usedIndex: number[] = [];
  rows.forEach((row, index) => {
    if (isMissing(row[training.target])) return;
    if (training.image && isMissing(row[training.features[0]])) return;
    if (training.missing === 'drop' && !training.text && training.features.some((feature) => isMissing(row[feature]))) return;
    usedIndex.push(index);
  });
  const used = usedIndex.map((index) => rows[index]);
  const droppedRows = rows.length - used.length;
  if (used.length < 2) {
    throw new SpecError(`only ${used.length} row(s) remain after dropping rows with missing values (missing=${training.missing}); at least 2 are needed`);
  }

  let order = used.map((_, index) => index);
  let validationRows: number;
  const splitColumn = imageSplitColumn(columns, training);
  if (splitColumn) {
    // The dataset's own split: its validation rows go last, whatever validationSplit says.
    const isValidation = (index: number) => String(used[index][splitColumn]).trim() === 'validation';
    const train = order.filter((index) => !isValidation(index));
    const validation = order.filter(isValidation);
    if (training.shuffle) shuffleInPlace(train, createRng(training.seed));
    order = [...train, ...validation];
    validationRows = validation.length;
  } else {
    if (training.shuffle) shuffleInPlace(order, createRng(training.seed));
    validationRows = training.validationSplit > 0 ? Math.max(1, Math.floor(used.length * training.validationSplit)) : 0;
  }
  const trainRows = used.length - validationRows;
  if (trainRows < 1) throw new SpecError('training.validationSplit leaves no rows to train on');
  const trainIndex = order.slice(0, trainRows);

  const features: FeatureEncoding[] = training.features.map((name): FeatureEncoding => {
    const type = typeOf.get(name)!;
    if (training.image) {
      const { width, height, channels } = training.image;
      return { name, kind: 'image', width, height, channels };
    }
    if (training.text) {
      const { tokenize, sequenceLength, lowercase, maxTokens } = training.text;
      // The vocabulary sees the training split only, as normalisation statistics do.
      const texts = trainIndex.map((index) => textOf(used[index][name]));
      return { name, kind: 'text', tokenize, sequenceLength, lowercase, vocabulary: buildVocabulary(texts, tokenize, lowercase, maxTokens) };
    }
    if (isStringType(type)) {
      const categories = new Set<string>();
      for (const index of trainIndex) {
        const cell = used[index][name];
        if (!isMissing(cell)) categories.add(categoryKey(cell));
      }
      if (categories.size > MAX_CATEGORIES) {
        throw new SpecError(`training.features: column "${name}" has ${categories.size} distinct values; one-hot encoding takes at most ${MAX_CATEGORIES}`);
      }
      return { name, kind: 'onehot', categories: [...categories].sort() };
    }
    const numericType = type as 'NUMBER' | 'BOOLEAN' | 'DATE';
    const values: number[] = [];
    for (const index of trainIndex) {
      const value = rawNumeric(used[index][name], numericType);
      if (value !== undefined) values.push(value);
    }
    const mean = values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : 0;
    let shift = 0;
    let scale = 1;
    if (training.normalize === 'standard' && values.length) {
      const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
      shift = mean;
      scale = Math.sqrt(variance) || 1;
    } else if (training.normalize === 'minmax' && values.length) {
      let min = Infinity;
      let max = -Infinity;
      for (const value of values) {
        if (value < min) min = value;
        if (value > max) max = value;
      }
      shift = min;
      scale = max - min || 1;
    }
    return { name, kind: 'numeric', sourceType: numericType, fill: mean, shift, scale };
  });

  let target: TargetEncoding;
  if (classification) {
    const labels = new Map<string, Exclude<Cell, null>>();
    for (const row of used) {
      const value = typedCell(row[training.target], targetType) as Exclude<Cell, null>;
      labels.set(categoryKey(value), value);
    }
    if (labels.size > MAX_CLASSES) throw new SpecError(`training.target "${training.target}" has ${labels.size} classes; at most ${MAX_CLASSES} are supported`);
    if (labels.size < 2) throw new SpecError(`training.target "${training.target}" has a single class (${[...labels.keys()][0]}); classification needs at least 2`);
    const encoding = outputEncoding(loss);
    if (encoding === 'binary' && labels.size !== 2) {
      throw new SpecError(`spec.loss binaryCrossentropy needs exactly 2 classes, but training.target "${training.target}" has ${labels.size}; use sparseCategoricalCrossentropy`);
    }
    target = { name: training.target, task: 'classification', encoding, sourceType: targetType, labels: sortLabels([...labels.values()]) };
  } else {
    target = { name: training.target, task: 'regression', sourceType: targetType };
  }

  const preprocessing: Preprocessing = {
    version: 1,
    features,
    inputSize: features.reduce((size, feature) => size + featureWidth(feature), 0),
    ...(training.image ? { inputShape: [training.image.height, training.image.width, training.image.channels] } : {}),
    ...(training.text ? { inputShape: [training.text.sequenceLength] } : {}),
    target,
    missing: training.missing,
    normalize: training.normalize,
  };
  const yWidth = target.task === 'classification' && target.encoding === 'onehot' ? target.labels.length : 1;
  if (training.image && !images) throw new Error('prepareData: an images dataset needs its image store');
  const x = new Float32Array(training.image ? 0 : used.length * preprocessing.inputSize);
  const rowOf = new Int32Array(training.image ? used.length : 0);
  const y = new Float32Array(used.length * yWidth);
  const labelIndex = target.task === 'classification' ? new Map(target.labels.map((label, index) => [categoryKey(label), index])) : undefined;
  order.forEach((sourceIndex, position) => {
    const row = used[sourceIndex];
    if (training.image) rowOf[position] = usedIndex[sourceIndex];
    else encodeRow(preprocessing, row, x, position * preprocessing.inputSize);
    const cell = typedCell(row[training.target], targetType);
    if (labelIndex) {
      const index = labelIndex.get(categoryKey(cell))!;
      if (yWidth > 1) y[position * yWidth + index] = 1;
      else y[position] = index;
    } else {
      y[position] = typeof cell === 'boolean' ? Number(cell) : (cell as number);
    }
  });
  const imageData: PreparedData['images'] = training.image
    ? { store: images!, rowOf, shape: [training.image.height, training.image.width, training.image.channels], augment: training.image.augment }
    : undefined;
  return { preprocessing, x, y, yWidth, trainRows, validationRows, droppedRows, ...(imageData ? { images: imageData } : {}) };
}

function featureWidth(feature: FeatureEncoding): number {
  switch (feature.kind) {
    case 'onehot':
      return feature.categories.length;
    case 'text':
      return feature.sequenceLength;
    case 'image':
      return feature.width * feature.height * feature.channels;
    case 'numeric':
      return 1;
  }
}

/** A text cell as the tokenizer sees it: a missing one is the empty text (all padding). */
function textOf(cell: unknown): string {
  return cell === null || cell === undefined ? '' : String(cell);
}

const vocabularyCache = new WeakMap<string[], Map<string, number>>();
function idsOf(vocabulary: string[]): Map<string, number> {
  let ids = vocabularyCache.get(vocabulary);
  if (!ids) vocabularyCache.set(vocabulary, (ids = vocabularyIds(vocabulary)));
  return ids;
}

/** Writes one row's model input at `offset`. Missing numbers take the training mean, unknown or missing categories all zeros. */
export function encodeRow(preprocessing: Preprocessing, row: Record<string, unknown>, out: Float32Array, offset: number): void {
  let position = offset;
  for (const feature of preprocessing.features) {
    const cell = row[feature.name] as Cell;
    if (feature.kind === 'text') {
      encodeText(textOf(cell), feature, idsOf(feature.vocabulary), out, position);
      position += feature.sequenceLength;
    } else if (feature.kind === 'image') {
      // Decoded by encodeRows (inference); training draws images from the store instead.
      position += featureWidth(feature);
    } else if (feature.kind === 'onehot') {
      if (!isMissing(cell)) {
        const index = feature.categories.indexOf(categoryKey(cell));
        if (index >= 0) out[position + index] = 1;
      }
      position += feature.categories.length;
    } else {
      const value = isMissing(cell) ? undefined : rawNumeric(cell, feature.sourceType);
      out[position++] = ((value ?? feature.fill) - feature.shift) / feature.scale;
    }
  }
}


/** Encodes raw rows for inference; a value of the wrong kind is refused naming the row and column. */
export function encodeRows(preprocessing: Preprocessing, rows: unknown[]): Float32Array {
  const out = new Float32Array(rows.length * preprocessing.inputSize);
  rows.forEach((row, index) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new PredictInputError(`rows[${index}] must be an object of feature columns`);
    }
    const record = row as Record<string, unknown>;
    for (const feature of preprocessing.features) {
      const cell = record[feature.name];
      if (feature.kind === 'image') {
        decodeImageInput(cell, feature, `rows[${index}].${feature.name}`, out, index * preprocessing.inputSize);
        continue;
      }
      if (feature.kind === 'text' && cell !== undefined && cell !== null && typeof cell !== 'string') {
        throw new PredictInputError(`rows[${index}].${feature.name} must be the text itself (a string), got ${JSON.stringify(cell)}`);
      }
      if (cell !== undefined && cell !== null && typeof cell === 'object') {
        throw new PredictInputError(`rows[${index}].${feature.name} must be a plain value, not an object`);
      }
      if (feature.kind === 'numeric' && !isMissing(cell as Cell) && rawNumeric(cell as Cell, feature.sourceType) === undefined) {
        throw new PredictInputError(`rows[${index}].${feature.name} must be a ${feature.sourceType.toLowerCase()}, got ${JSON.stringify(cell)}`);
      }
    }
    encodeRow(preprocessing, record, out, index * preprocessing.inputSize);
  });
  return out;
}

/** Turns model outputs back into predictions: a label with class probabilities, or a number. */
export function decodeOutputs(preprocessing: Preprocessing, outputs: Float32Array, width: number): Record<string, unknown>[] {
  const rows = outputs.length / width;
  const target = preprocessing.target;
  const results: Record<string, unknown>[] = [];
  for (let row = 0; row < rows; row++) {
    const values = outputs.subarray(row * width, row * width + width);
    if (target.task === 'regression') {
      results.push({ prediction: values[0] });
      continue;
    }
    const probabilities: Record<string, number> = {};
    let best = 0;
    if (target.encoding === 'binary') {
      const p = values[0];
      probabilities[String(target.labels[0])] = 1 - p;
      probabilities[String(target.labels[1])] = p;
      best = p >= 0.5 ? 1 : 0;
    } else {
      target.labels.forEach((label, index) => {
        probabilities[String(label)] = values[index];
        if (values[index] > values[best]) best = index;
      });
    }
    results.push({ prediction: target.labels[best], probabilities });
  }
  return results;
}

/** The number of output units the model's last layer must have for this target. */
export function expectedOutputUnits(preprocessing: Preprocessing): number {
  const target = preprocessing.target;
  if (target.task === 'regression' || target.encoding === 'binary') return 1;
  return target.labels.length;
}
