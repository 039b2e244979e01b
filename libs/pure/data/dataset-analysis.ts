import { hashString } from '#libs/pure/random';

import {
  type Cell,
  type ColumnType,
  dateValue,
  isBooleanCell,
  isDateCell,
  isMissing,
  isMissingText,
  isNumberText,
} from './cells.js';
import { DatasetError } from './dataset-error.js';
import { type DatasetFormat, readDatasetRows } from './dataset-reader.js';

export interface ColumnStats {
  name: string;
  type: ColumnType;
  missing: number;
  distinct: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
}

export interface DatasetAnalysis {
  rowCount: number;
  columns: ColumnStats[];
  /** What the import skipped or doubts, each naming the file (images datasets). */
  warnings?: string[];
}

const NON_FINITE = /^[+-]?(?:inf|infinity)$/i;

/**
 * Distinct counts are exact up to this many values a column (fewer when there are many columns:
 * the budget is shared); past it, a HyperLogLog estimate keeps memory flat whatever the file.
 */
const EXACT_DISTINCT_LIMIT = 10_000;
const EXACT_DISTINCT_BUDGET = 200_000;

class DistinctCounter {
  private exact: Set<string> | undefined = new Set();
  private readonly registers: Uint8Array;

  constructor(
    private readonly exactLimit: number,
    private readonly bits: number,
  ) {
    this.registers = new Uint8Array(1 << bits);
  }

  add(value: string): void {
    const hash = hashString(value);
    const index = hash >>> (32 - this.bits);
    const rest = (hash << this.bits) >>> 0;
    const rank = rest === 0 ? 32 - this.bits + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]) this.registers[index] = rank;
    if (this.exact) {
      this.exact.add(value);
      if (this.exact.size > this.exactLimit) this.exact = undefined;
    }
  }

  count(): number {
    if (this.exact) return this.exact.size;
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (const register of this.registers) {
      sum += 2 ** -register;
      if (register === 0) zeros++;
    }
    const estimate = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum;
    return Math.round(estimate <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : estimate);
  }
}

class ColumnAccumulator {
  missing = 0;
  present = 0;
  allNumber = true;
  allBoolean = true;
  allDate = true;
  sum = 0;
  /** Characters over the present cells: a long mean makes a string column TEXT. */
  textLength = 0;
  min = Infinity;
  max = -Infinity;
  dateMin = Infinity;
  dateMax = -Infinity;
  readonly distinct: DistinctCounter;

  constructor(
    readonly name: string,
    columnCount: number,
  ) {
    const exactLimit = Math.min(EXACT_DISTINCT_LIMIT, Math.max(64, Math.floor(EXACT_DISTINCT_BUDGET / columnCount)));
    this.distinct = new DistinctCounter(exactLimit, columnCount > 1_000 ? 8 : 12);
  }

  /** The hot loop of an upload: one call per cell, so each check runs once and only while it can still matter. */
  add(cell: Cell | undefined, line: number): void {
    let text: string;
    if (typeof cell === 'string') {
      const first = cell.charCodeAt(0);
      const last = cell.charCodeAt(cell.length - 1);
      text = first <= 32 || last <= 32 ? cell.trim() : cell;
      if (isMissingText(text)) {
        this.missing++;
        return;
      }
      if (text.length <= 9 && NON_FINITE.test(text)) {
        throw new DatasetError(
          `row on line ${line}, column "${this.name}": ${text} is not a finite number (leave the cell empty, NA ` +
            `or NaN for a missing value)`,
        );
      }
    } else if (isMissing(cell)) {
      this.missing++;
      return;
    } else {
      text = String(cell);
    }
    this.present++;
    this.textLength += text.length;
    this.distinct.add(text);
    if (this.allNumber) {
      const number =
        typeof cell === 'number' ? cell : typeof cell === 'string' && isNumberText(text) ? Number(text) : undefined;
      if (number === undefined) this.allNumber = false;
      else {
        if (!Number.isFinite(number))
          throw new DatasetError(
            `row on line ${line}, column "${this.name}": ${text} is too large to be a finite number`,
          );
        this.sum += number;
        if (number < this.min) this.min = number;
        if (number > this.max) this.max = number;
      }
    }
    if (this.allBoolean && !isBooleanCell(cell as Exclude<Cell, null>)) this.allBoolean = false;
    if (this.allDate) {
      if (typeof cell === 'string' && isDateCell(text)) {
        const ms = dateValue(text)!;
        if (ms < this.dateMin) this.dateMin = ms;
        if (ms > this.dateMax) this.dateMax = ms;
      } else {
        this.allDate = false;
      }
    }
  }

  stats(): ColumnStats {
    const distinct = this.distinct.count();
    const empty = this.present === 0;
    const type: ColumnType = empty
      ? 'STRING'
      : this.allBoolean
        ? 'BOOLEAN'
        : this.allNumber
          ? 'NUMBER'
          : this.allDate
            ? 'DATE'
            : isFreeText(this.present, distinct, this.textLength)
              ? 'TEXT'
              : 'STRING';
    const numeric = type === 'NUMBER';
    return {
      name: this.name,
      type,
      missing: this.missing,
      distinct,
      min: numeric ? this.min : type === 'DATE' ? this.dateMin : null,
      max: numeric ? this.max : type === 'DATE' ? this.dateMax : null,
      mean: numeric ? this.sum / this.present : null,
    };
  }
}

/**
 * A string column is free text when its values are long (a mean over TEXT_MEAN_LENGTH characters) or mostly
 * distinct (over 90% of at least 20 values): such a column is no category to one-hot, but input for training.text.
 */
const TEXT_MEAN_LENGTH = 40;
export function isFreeText(present: number, distinct: number, totalLength: number): boolean {
  return totalLength / present > TEXT_MEAN_LENGTH || (present >= 20 && distinct > 0.9 * present);
}

/** One streaming pass: column names, inferred types and statistics, row count; memory stays flat whatever the size. */
export async function analyzeDataset(path: string, format: DatasetFormat): Promise<DatasetAnalysis> {
  const accumulators: ColumnAccumulator[] = [];
  const byName = new Map<string, ColumnAccumulator>();
  let rowCount = 0;
  const onColumns = (columns: string[]) => {
    for (const name of columns) {
      if (byName.has(name)) continue;
      const accumulator = new ColumnAccumulator(name, columns.length);
      // A JSON Lines key first seen on a later row was missing from every row before it.
      accumulator.missing = rowCount;
      accumulators.push(accumulator);
      byName.set(name, accumulator);
    }
  };
  for await (const row of readDatasetRows(path, format, onColumns)) {
    for (const accumulator of accumulators) accumulator.add(row.cells[accumulator.name], row.line);
    rowCount++;
  }
  if (rowCount === 0) throw new DatasetError('the file has a header but no data rows');
  return { rowCount, columns: accumulators.map((accumulator) => accumulator.stats()) };
}
