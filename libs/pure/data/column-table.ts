import { type Cell, type ColumnType, isMissing, isStringType, typedCell } from './cells.js';

/**
 * A dataset's columns as typed arrays, what training reads: one Float64Array a NUMBER, BOOLEAN (0/1) or DATE
 * (ms since 1970) column, one Int32Array of dictionary codes a STRING column, instead of an object a row.
 * A missing cell (empty, NA, NaN, null) is flagged; a present value that does not read as the column's type
 * is NaN in `values` but not missing, exactly as the row path treats it.
 */
export interface NumericColumn {
  kind: 'numeric';
  type: 'NUMBER' | 'BOOLEAN' | 'DATE';
  values: Float64Array;
  missing: Uint8Array;
}

export interface TextColumn {
  kind: 'text';
  /** Index into `dictionary`, -1 when missing. */
  codes: Int32Array;
  /** Each distinct raw cell once (untrimmed, as the file has it). */
  dictionary: Exclude<Cell, null>[];
}

export type TableColumn = NumericColumn | TextColumn;

export interface ColumnTable {
  rowCount: number;
  columns: Map<string, TableColumn>;
}

export function isMissingAt(column: TableColumn, row: number): boolean {
  return column.kind === 'text' ? column.codes[row] < 0 : column.missing[row] === 1;
}

/** Assigns dictionary codes to raw text cells as they come. */
export class TextColumnBuilder {
  readonly dictionary: Exclude<Cell, null>[] = [];
  private readonly codeOf = new Map<Exclude<Cell, null>, number>();
  codes: Int32Array;

  constructor(capacity: number) {
    this.codes = new Int32Array(capacity);
  }

  set(row: number, cell: Cell | undefined): void {
    if (row >= this.codes.length) this.codes = grow(this.codes, row) as Int32Array;
    if (cell === null || cell === undefined) {
      this.codes[row] = -1;
      return;
    }
    let code = this.codeOf.get(cell);
    if (code === undefined) {
      code = isMissing(cell) ? -1 : this.dictionary.push(cell) - 1;
      this.codeOf.set(cell, code);
    }
    this.codes[row] = code;
  }

  build(rowCount: number): TextColumn {
    return { kind: 'text', codes: this.codes.subarray(0, rowCount), dictionary: this.dictionary };
  }
}

export class NumericColumnBuilder {
  values: Float64Array;
  missing: Uint8Array;

  constructor(
    readonly type: 'NUMBER' | 'BOOLEAN' | 'DATE',
    capacity: number,
  ) {
    this.values = new Float64Array(capacity);
    this.missing = new Uint8Array(capacity);
  }

  /** A value already read (NaN: present but unreadable), or null when missing. */
  setValue(row: number, value: number | null): void {
    if (row >= this.values.length) {
      this.values = grow(this.values, row) as Float64Array;
      this.missing = grow(this.missing, row) as Uint8Array;
    }
    if (value === null) {
      this.missing[row] = 1;
      this.values[row] = NaN;
    } else {
      this.values[row] = value;
    }
  }

  /** A raw cell, read by the same rules as the row path (typedCell). */
  setCell(row: number, cell: Cell | undefined): void {
    if (isMissing(cell)) return this.setValue(row, null);
    const value = typedCell(cell, this.type);
    this.setValue(row, value === null ? NaN : typeof value === 'boolean' ? Number(value) : (value as number));
  }

  build(rowCount: number): NumericColumn {
    return {
      kind: 'numeric',
      type: this.type,
      values: this.values.subarray(0, rowCount),
      missing: this.missing.subarray(0, rowCount),
    };
  }
}

function grow(array: Float64Array | Int32Array | Uint8Array, row: number): Float64Array | Int32Array | Uint8Array {
  const next = new (array.constructor as Float64ArrayConstructor)(Math.max(row + 1, array.length * 2, 1024));
  next.set(array as Float64Array);
  return next;
}

export type ColumnBuilder = TextColumnBuilder | NumericColumnBuilder;

export function columnBuilder(type: ColumnType, capacity: number): ColumnBuilder {
  // STRING, TEXT and IMAGE keep their text (dictionary codes); the other types are numbers.
  return isStringType(type)
    ? new TextColumnBuilder(capacity)
    : new NumericColumnBuilder(type as 'NUMBER' | 'BOOLEAN' | 'DATE', capacity);
}

/** The columnar form of rows read from a file (the row path, and JSON Lines). */
export function tableFromRows(
  rows: Record<string, Cell | undefined>[],
  columns: { name: string; type: ColumnType }[],
): ColumnTable {
  const table: ColumnTable = { rowCount: rows.length, columns: new Map() };
  for (const { name, type } of columns) {
    const builder = columnBuilder(type, rows.length);
    for (let row = 0; row < rows.length; row++) {
      const cell = rows[row][name];
      if (builder instanceof TextColumnBuilder) builder.set(row, cell);
      else builder.setCell(row, cell);
    }
    table.columns.set(name, builder.build(rows.length));
  }
  return table;
}
