import { type Cell, type ColumnStats, type ColumnType, isMissing, isStringType, typedCell } from '#libs/pure/data';
import { type ColumnTable, isMissingAt, type TableColumn, tableFromRows } from '#libs/pure/data';
import { mulberry32, shuffleInPlace } from '#libs/pure/random';

import type { AugmentConfig } from './images/augment.js';
import { decodeImageInput } from './images/image-input.js';
import type { ImageStore } from './images/image-store.js';
import { CLASSIFICATION_LOSSES, type Loss } from './model-spec.js';
import { PredictInputError } from './predict-input-error.js';
import { buildVocabulary, encodeText, type TokenizeMode, vocabularyIds } from './text/tokenizer.js';
import { imageSplitColumn, type TrainingConfig } from './training-config.js';
import { SpecError } from './validation.js';

export { PredictInputError };

export const MAX_CATEGORIES = 1_000;
export const MAX_CLASSES = 1_000;

/** Training needs two rows at least (one to fit, one to validate), after rows with missing values are dropped. */
function checkEnoughRows(count: number, training: TrainingConfig): void {
  if (count >= 2) return;
  throw new SpecError(
    `only ${count} row(s) remain after dropping rows with missing values (missing=${training.missing}); ` +
      `at least 2 are needed`,
  );
}

function checkCategoryCount(name: string, count: number): void {
  if (count <= MAX_CATEGORIES) return;
  throw new SpecError(
    `training.features: column "${name}" has ${count} distinct values; one-hot encoding takes at most ` +
      `${MAX_CATEGORIES}`,
  );
}

export type FeatureEncoding =
  | {
      name: string;
      kind: 'numeric';
      sourceType: 'NUMBER' | 'BOOLEAN' | 'DATE';
      fill: number;
      shift: number;
      scale: number;
    }
  | { name: string; kind: 'onehot'; categories: string[] }
  /** training.text: token ids; `vocabulary[i]` is id i + 2 (0 padding, 1 out of vocabulary). */
  | {
      name: string;
      kind: 'text';
      tokenize: TokenizeMode;
      sequenceLength: number;
      lowercase: boolean;
      vocabulary: string[];
    }
  /** training.image: the image resized to width × height × channels, scaled to [0, 1]. */
  | { name: string; kind: 'image'; width: number; height: number; channels: 1 | 3 };

export type TargetEncoding =
  | {
      name: string;
      task: 'classification';
      encoding: 'sparse' | 'onehot' | 'binary';
      sourceType: ColumnType;
      labels: Exclude<Cell, null>[];
    }
  | { name: string; task: 'regression'; sourceType: ColumnType };

/** Everything inference needs to turn a raw row into the model's input, stored with the run and in every checkpoint. */
export interface Preprocessing {
  version: 1;
  features: FeatureEncoding[];
  inputSize: number;
  /**
   * The model's input shape without the batch, when it is not [inputSize]: [sequenceLength], [height, width, channels].
   */
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
  return values.sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
  );
}

function categoryKey(cell: Cell): string {
  return typeof cell === 'string' ? cell.trim() : String(cell);
}

/** The target's encoding: its sorted labels for classification (checked against the loss), or regression. */
function targetEncoding(
  name: string,
  sourceType: ColumnType,
  loss: Loss,
  classification: boolean,
  values: () => Iterable<Cell>,
): TargetEncoding {
  if (!classification) return { name, task: 'regression', sourceType };
  const labels = new Map<string, Exclude<Cell, null>>();
  for (const value of values()) labels.set(categoryKey(value), value as Exclude<Cell, null>);
  if (labels.size > MAX_CLASSES)
    throw new SpecError(`training.target "${name}" has ${labels.size} classes; at most ${MAX_CLASSES} are supported`);
  if (labels.size < 2)
    throw new SpecError(
      `training.target "${name}" has a single class (${[...labels.keys()][0]}); classification needs at least 2`,
    );
  const encoding = outputEncoding(loss);
  if (encoding === 'binary' && labels.size !== 2) {
    throw new SpecError(
      `spec.loss binaryCrossentropy needs exactly 2 classes, but training.target "${name}" has ${labels.size}; ` +
        `use sparseCategoricalCrossentropy`,
    );
  }
  return { name, task: 'classification', encoding, sourceType, labels: sortLabels([...labels.values()]) };
}

/** The value of one feature for one typed cell, before normalisation; undefined when missing. */
function rawNumeric(cell: Cell, sourceType: 'NUMBER' | 'BOOLEAN' | 'DATE'): number | undefined {
  const value = typedCell(cell, sourceType);
  if (value === null) return undefined;
  return typeof value === 'boolean' ? Number(value) : (value as number);
}

/**
 * Fits the preprocessing on the training rows (normalisation statistics never see the validation split)
 * and encodes every row. `rows` are the dataset's rows as read from the file. Tabular data goes through the
 * columnar path (prepareTable, what the worker runs on typed arrays); a text or image feature through the row path,
 * where the tokenizer and the image store work.
 */
export function prepareData(
  rows: Record<string, Cell>[],
  columns: ColumnStats[],
  training: TrainingConfig,
  loss: Loss,
  images?: ImageStore,
): PreparedData {
  if (training.image || training.text) return prepareMediaRows(rows, columns, training, loss, images);
  const used = new Set([...training.features, training.target]);
  return prepareTable(
    tableFromRows(
      rows,
      columns.filter((column) => used.has(column.name)),
    ),
    columns,
    training,
    loss,
  );
}

/**
 * Whether the target makes this classification (a classification loss, or a text target), refusing a text target
 * under a regression loss and a DATE target.
 */
function isClassification(target: string, targetType: ColumnType, loss: Loss): boolean {
  const classification = CLASSIFICATION_LOSSES.includes(loss) || isStringType(targetType);
  if (classification && !CLASSIFICATION_LOSSES.includes(loss)) {
    throw new SpecError(
      `training.target "${target}" holds text, so this is classification, but the loss ${loss} is for regression; ` +
        'use sparseCategoricalCrossentropy',
    );
  }
  if (!classification && targetType === 'DATE') {
    throw new SpecError(`training.target "${target}" is a DATE column; a target must be a number, boolean or label`);
  }
  return classification;
}

/** prepareData for a text or image feature: row by row, through the tokenizer or the image store. */
function prepareMediaRows(
  rows: Record<string, Cell>[],
  columns: ColumnStats[],
  training: TrainingConfig,
  loss: Loss,
  images?: ImageStore,
): PreparedData {
  const typeOf = new Map(columns.map((column) => [column.name, column.type]));
  const targetType = typeOf.get(training.target)!;
  const classification = isClassification(training.target, targetType, loss);

  // Rows missing the target are always dropped; rows missing a feature only under missing=drop (a text or image feature
  // has no mean to fill: an empty text is a text, a missing image is dropped).
  const usedIndex: number[] = [];
  rows.forEach((row, index) => {
    if (isMissing(row[training.target])) return;
    if (training.image && isMissing(row[training.features[0]])) return;
    if (training.missing === 'drop' && !training.text && training.features.some((feature) => isMissing(row[feature])))
      return;
    usedIndex.push(index);
  });
  const used = usedIndex.map((index) => rows[index]);
  const droppedRows = rows.length - used.length;
  checkEnoughRows(used.length, training);

  let order = used.map((_, index) => index);
  let validationRows: number;
  const splitColumn = imageSplitColumn(columns, training);
  if (splitColumn) {
    // The dataset's own split: its validation rows go last, whatever validationSplit says.
    const isValidation = (index: number) => String(used[index][splitColumn]).trim() === 'validation';
    const train = order.filter((index) => !isValidation(index));
    const validation = order.filter(isValidation);
    if (training.shuffle) shuffleInPlace(train, mulberry32(training.seed));
    order = [...train, ...validation];
    validationRows = validation.length;
  } else {
    if (training.shuffle) shuffleInPlace(order, mulberry32(training.seed));
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
      return {
        name,
        kind: 'text',
        tokenize,
        sequenceLength,
        lowercase,
        vocabulary: buildVocabulary(texts, tokenize, lowercase, maxTokens),
      };
    }
    if (isStringType(type)) {
      const categories = new Set<string>();
      for (const index of trainIndex) {
        const cell = used[index][name];
        if (!isMissing(cell)) categories.add(categoryKey(cell));
      }
      checkCategoryCount(name, categories.size);
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

  const target = targetEncoding(training.target, targetType, loss, classification, function* () {
    for (const row of used) yield typedCell(row[training.target], targetType);
  });

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
  const labelIndex =
    target.task === 'classification'
      ? new Map(target.labels.map((label, index) => [categoryKey(label), index]))
      : undefined;
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
    ? {
        store: images!,
        rowOf,
        shape: [training.image.height, training.image.width, training.image.channels],
        augment: training.image.augment,
      }
    : undefined;
  return {
    preprocessing,
    x,
    y,
    yWidth,
    trainRows,
    validationRows,
    droppedRows,
    ...(imageData ? { images: imageData } : {}),
  };
}

/** The typed value of a target cell (typedCell's rules) and its label key, from the columnar form. */
function targetValue(column: TableColumn, row: number): Cell {
  if (column.kind === 'text') return typedCell(column.dictionary[column.codes[row]], 'STRING');
  const value = column.values[row];
  if (column.type === 'BOOLEAN') return value === 1;
  return Number.isNaN(value) ? null : value;
}

/**
 * Mean and normalisation of one numeric column over the training rows, summed in training order as the row
 * path does (so the same doubles); a plain indexed loop, monomorphic, for a million rows.
 */
function numericEncoding(
  values: Float64Array,
  trainRowIds: Int32Array,
  normalize: TrainingConfig['normalize'],
): { mean: number; shift: number; scale: number } {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < trainRowIds.length; k++) {
    const value = values[trainRowIds[k]];
    if (value !== value) continue; // NaN: missing or unreadable
    count++;
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const mean = count ? sum / count : 0;
  if (normalize === 'standard' && count) {
    let squares = 0;
    for (let k = 0; k < trainRowIds.length; k++) {
      const value = values[trainRowIds[k]];
      if (value === value) squares += (value - mean) ** 2;
    }
    return { mean, shift: mean, scale: Math.sqrt(squares / count) || 1 };
  }
  if (normalize === 'minmax' && count) return { mean, shift: min, scale: max - min || 1 };
  return { mean, shift: 0, scale: 1 };
}

/**
 * prepareData on the columnar form (typed arrays, what the worker loads): the same row filter, split,
 * statistics (summed in the same order, so the same doubles), encodings and outputs as the row path.
 */
export function prepareTable(
  table: ColumnTable,
  columns: ColumnStats[],
  training: TrainingConfig,
  loss: Loss,
): PreparedData {
  const typeOf = new Map(columns.map((column) => [column.name, column.type]));
  const targetType = typeOf.get(training.target)!;
  const classification = isClassification(training.target, targetType, loss);

  const targetColumn = table.columns.get(training.target)!;
  const featureColumns = training.features.map((name) => table.columns.get(name)!);
  // Rows missing the target are always dropped; rows missing a feature only under missing=drop.
  // One column at a time into a drop mask: tight loops over typed arrays instead of a check per row and column.
  const drop = new Uint8Array(table.rowCount);
  for (const column of training.missing === 'mean' ? [targetColumn] : [targetColumn, ...featureColumns]) {
    for (let row = 0; row < table.rowCount; row++) if (isMissingAt(column, row)) drop[row] = 1;
  }
  const kept = new Int32Array(table.rowCount);
  let usedCount = 0;
  for (let row = 0; row < table.rowCount; row++) if (!drop[row]) kept[usedCount++] = row;
  const used = kept.subarray(0, usedCount);
  const droppedRows = table.rowCount - usedCount;
  checkEnoughRows(usedCount, training);

  const order = new Int32Array(usedCount);
  for (let i = 0; i < usedCount; i++) order[i] = i;
  if (training.shuffle) shuffleInPlace(order, mulberry32(training.seed));
  const validationRows =
    training.validationSplit > 0 ? Math.max(1, Math.floor(usedCount * training.validationSplit)) : 0;
  const trainRows = usedCount - validationRows;
  if (trainRows < 1) throw new SpecError('training.validationSplit leaves no rows to train on');
  const trainIndex = order.subarray(0, trainRows);
  // The file row of each training row, in training order: looked up once, read by every column.
  const trainRowIds = new Int32Array(trainRows);
  for (let k = 0; k < trainRows; k++) trainRowIds[k] = used[trainIndex[k]];

  const features: FeatureEncoding[] = training.features.map((name, featureIndex) => {
    const column = featureColumns[featureIndex];
    const type = typeOf.get(name)!;
    if (column.kind === 'text') {
      const seen = new Uint8Array(column.dictionary.length);
      const codes = column.codes;
      for (let k = 0; k < trainRowIds.length; k++) {
        const code = codes[trainRowIds[k]];
        if (code >= 0) seen[code] = 1;
      }
      const categories = new Set<string>();
      seen.forEach((flag, code) => flag && categories.add(categoryKey(column.dictionary[code])));
      checkCategoryCount(name, categories.size);
      return { name, kind: 'onehot', categories: [...categories].sort() };
    }
    const { mean, shift, scale } = numericEncoding(column.values, trainRowIds, training.normalize);
    return { name, kind: 'numeric', sourceType: type as 'NUMBER' | 'BOOLEAN' | 'DATE', fill: mean, shift, scale };
  });

  const target = targetEncoding(training.target, targetType, loss, classification, function* () {
    for (const row of used) yield targetValue(targetColumn, row);
  });

  const preprocessing: Preprocessing = {
    version: 1,
    features,
    inputSize: features.reduce(
      (size, feature) => size + (feature.kind === 'onehot' ? feature.categories.length : 1),
      0,
    ),
    target,
    missing: training.missing,
    normalize: training.normalize,
  };
  const yWidth = target.task === 'classification' && target.encoding === 'onehot' ? target.labels.length : 1;
  const inputSize = preprocessing.inputSize;
  const x = new Float32Array(usedCount * inputSize);
  const y = new Float32Array(usedCount * yWidth);
  // Row by row (x is written in order, one cache line after another); a dictionary code maps to its one-hot
  // slot once, not per row. Numeric and one-hot features in two flat lists keep the inner loops monomorphic.
  const numeric: { values: Float64Array; offset: number; fill: number; shift: number; scale: number }[] = [];
  const onehot: { codes: Int32Array; slot: Int32Array; offset: number }[] = [];
  let offset = 0;
  features.forEach((feature, featureIndex) => {
    const column = featureColumns[featureIndex];
    if (feature.kind === 'onehot' && column.kind === 'text') {
      const slot = Int32Array.from(column.dictionary, (cell) => feature.categories.indexOf(categoryKey(cell)));
      onehot.push({ codes: column.codes, slot, offset });
      offset += feature.categories.length;
    } else if (feature.kind === 'numeric' && column.kind === 'numeric') {
      numeric.push({ values: column.values, offset, fill: feature.fill, shift: feature.shift, scale: feature.scale });
      offset += 1;
    }
  });
  for (let position = 0; position < usedCount; position++) {
    const row = used[order[position]];
    const base = position * inputSize;
    for (let f = 0; f < numeric.length; f++) {
      const { values, offset: at, fill, shift, scale } = numeric[f];
      const value = values[row];
      x[base + at] = ((value !== value ? fill : value) - shift) / scale;
    }
    for (let f = 0; f < onehot.length; f++) {
      const { codes, slot, offset: at } = onehot[f];
      const code = codes[row];
      if (code >= 0 && slot[code] >= 0) x[base + at + slot[code]] = 1;
    }
  }
  if (target.task === 'classification') {
    const labelIndex = new Map(target.labels.map((label, index) => [categoryKey(label), index]));
    // Keys per dictionary code (text) or per row (numbers, few distinct in a classification target).
    const codeLabel =
      targetColumn.kind === 'text'
        ? Int32Array.from(
            targetColumn.dictionary,
            (cell) => labelIndex.get(categoryKey(typedCell(cell, 'STRING'))) ?? -1,
          )
        : undefined;
    for (let position = 0; position < usedCount; position++) {
      const row = used[order[position]];
      const index =
        codeLabel && targetColumn.kind === 'text'
          ? codeLabel[targetColumn.codes[row]]
          : labelIndex.get(categoryKey(targetValue(targetColumn, row)))!;
      if (yWidth > 1) y[position * yWidth + index] = 1;
      else y[position] = index;
    }
  } else if (targetColumn.kind === 'numeric') {
    for (let position = 0; position < usedCount; position++) {
      const value = targetColumn.values[used[order[position]]];
      y[position] = Number.isNaN(value) ? 0 : value;
    }
  }
  return { preprocessing, x, y, yWidth, trainRows, validationRows, droppedRows };
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

/**
 * Writes one row's model input at `offset`. Missing numbers take the training mean, unknown or missing categories all
 * zeros.
 */
export function encodeRow(
  preprocessing: Preprocessing,
  row: Record<string, unknown>,
  out: Float32Array,
  offset: number,
): void {
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
      const cell = Object.hasOwn(record, feature.name) ? record[feature.name] : undefined; // not Object.prototype's
      if (feature.kind === 'image') {
        decodeImageInput(cell, feature, `rows[${index}].${feature.name}`, out, index * preprocessing.inputSize);
        continue;
      }
      if (feature.kind === 'text' && cell !== undefined && cell !== null && typeof cell !== 'string') {
        throw new PredictInputError(
          `rows[${index}].${feature.name} must be the text itself (a string), got ${JSON.stringify(cell)}`,
        );
      }
      if (cell !== undefined && cell !== null && typeof cell === 'object') {
        throw new PredictInputError(`rows[${index}].${feature.name} must be a plain value, not an object`);
      }
      if (
        feature.kind === 'numeric' &&
        !isMissing(cell as Cell) &&
        rawNumeric(cell as Cell, feature.sourceType) === undefined
      ) {
        throw new PredictInputError(
          `rows[${index}].${feature.name} must be a ${feature.sourceType.toLowerCase()}, got ${JSON.stringify(cell)}`,
        );
      }
    }
    encodeRow(preprocessing, record, out, index * preprocessing.inputSize);
  });
  return out;
}

/** Turns model outputs back into predictions: a label with class probabilities, or a number. */
export function decodeOutputs(
  preprocessing: Preprocessing,
  outputs: Float32Array,
  width: number,
): Record<string, unknown>[] {
  const rows = outputs.length / width;
  const target = preprocessing.target;
  const results: Record<string, unknown>[] = [];
  for (let row = 0; row < rows; row++) {
    const values = outputs.subarray(row * width, row * width + width);
    if (target.task === 'regression') {
      results.push({ prediction: values[0] });
      continue;
    }
    const probabilities = Object.create(null) as Record<string, number>; // a label may be "__proto__"
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
