import { type Cell, type ColumnType, asNumber, dateValue, isBooleanCell, isDateCell, isMissing, isNumberCell } from './cells.js';
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
}

const NON_FINITE = /^[+-]?(?:inf|infinity)$/i;

/** Exact distinct counts up to this many values a column; past it, a HyperLogLog estimate keeps memory flat. */
const EXACT_DISTINCT_LIMIT = 10_000;
const HLL_BITS = 12;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so the low bits used as register index are well mixed.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

class DistinctCounter {
  private exact: Set<string> | undefined = new Set();
  private readonly registers = new Uint8Array(1 << HLL_BITS);

  add(value: string): void {
    const hash = fnv1a(value);
    const index = hash >>> (32 - HLL_BITS);
    const rest = (hash << HLL_BITS) >>> 0;
    const rank = rest === 0 ? 32 - HLL_BITS + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]) this.registers[index] = rank;
    if (this.exact) {
      this.exact.add(value);
      if (this.exact.size > EXACT_DISTINCT_LIMIT) this.exact = undefined;
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
  min = Infinity;
  max = -Infinity;
  dateMin = Infinity;
  dateMax = -Infinity;
  readonly distinct = new DistinctCounter();

  constructor(readonly name: string) {}

  add(cell: Cell | undefined, line: number): void {
    if (typeof cell === 'string' && NON_FINITE.test(cell.trim())) {
      throw new DatasetError(`row on line ${line}, column "${this.name}": ${cell.trim()} is not a finite number (leave the cell empty, NA or NaN for a missing value)`);
    }
    if (isMissing(cell)) {
      this.missing++;
      return;
    }
    const value = cell as Exclude<Cell, null>;
    this.present++;
    this.distinct.add(typeof value === 'string' ? value.trim() : String(value));
    if (this.allNumber && isNumberCell(value)) {
      const number = asNumber(value)!;
      if (!Number.isFinite(number)) throw new DatasetError(`row on line ${line}, column "${this.name}": ${String(value).trim()} is too large to be a finite number`);
      this.sum += number;
      if (number < this.min) this.min = number;
      if (number > this.max) this.max = number;
    } else {
      this.allNumber = false;
    }
    if (this.allBoolean && !isBooleanCell(value)) this.allBoolean = false;
    if (this.allDate) {
      if (isDateCell(value)) {
        const ms = dateValue(value)!;
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

/** One streaming pass: column names, inferred types and statistics, row count; memory stays flat whatever the size. */
export async function analyzeDataset(path: string, format: DatasetFormat): Promise<DatasetAnalysis> {
  const accumulators: ColumnAccumulator[] = [];
  const byName = new Map<string, ColumnAccumulator>();
  let rowCount = 0;
  const onColumns = (columns: string[]) => {
    for (const name of columns) {
      if (byName.has(name)) continue;
      const accumulator = new ColumnAccumulator(name);
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
