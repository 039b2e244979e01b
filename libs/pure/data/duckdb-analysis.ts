import { open } from 'node:fs/promises';

import type { DuckDBConnection } from '@duckdb/node-api';

import { type ColumnType, isBooleanCell, isDateCell, isMissingText, isNumberText } from './cells.js';
import { type ColumnStats, type DatasetAnalysis, isFreeText } from './dataset-analysis.js';
import { DatasetError } from './dataset-error.js';
import { readDatasetRows } from './dataset-reader.js';
import { csvSource, openEngine, sqlString } from './duckdb-engine.js';

/**
 * The streaming analyser's rules (cells.ts) written as DuckDB aggregates, so one multi-threaded, columnar
 * pass over the file on disk gives the same types and statistics. Distinct counts are exact (DuckDB spills
 * to disk past its memory limit). What these aggregates cannot decide exactly (an infinite or overflowing
 * number, a NUL byte, any file DuckDB refuses) is answered by `undefined`: the caller then runs the
 * streaming analyser, which is the reference and names the row and column at fault.
 */

/** The whitespace String.prototype.trim removes that can appear in a cell. */
const WHITESPACE = sqlString(' \t\n\r\v\f\u00a0\ufeff\u2028\u2029');
const MISSING = `('', 'NA', 'NaN', 'null')`;
const DATE_PATTERN = sqlString(
  '^\\d{4}-\\d{2}-\\d{2}(?:[T ]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}:?\\d{2})?)?$',
);

/** The SQL of one text column's cells: trimmed text t, its number n (when it reads as one) and date d in ms. */
function textCellExpressions(raw: string, i: number): string[] {
  const t = `trim(${raw}, ${WHITESPACE})`;
  return [
    `${t} AS t${i}`,
    `TRY_CAST(${t} AS DOUBLE) AS n${i}`,
    // Date.parse reads a bare date as UTC and a date-time without offset in local time, like DuckDB's
    // DATE and TIMESTAMPTZ (the engine's TimeZone is the process's).
    `CASE WHEN length(${t}) >= 10 AND substr(${t}, 5, 1) = '-' AND regexp_full_match(${t}, ${DATE_PATTERN})
      THEN CASE WHEN length(${t}) = 10 THEN epoch_ms(TRY_CAST(${t} AS DATE)::TIMESTAMP)
      ELSE epoch_ms(TRY_CAST(${t} AS TIMESTAMPTZ)) END END AS d${i}`,
  ];
}

function textAggregates(i: number): string[] {
  const present = `t${i} NOT IN ${MISSING}`;
  return [
    `count_if(t${i} IS NULL OR t${i} IN ${MISSING}) AS missing${i}`,
    `count(DISTINCT t${i}) FILTER (WHERE ${present}) AS distinct${i}`,
    // Characters of the present cells: long strings make a TEXT column, as in the streaming analyser.
    `sum(length(t${i})) FILTER (WHERE ${present}) AS textlen${i}`,
    // DuckDB's cast also reads nan, inf and digits grouped by '_', which the streaming analyser's pattern does not.
    `count_if(n${i} IS NOT NULL AND NOT isnan(n${i}) AND NOT isinf(n${i}) AND NOT contains(t${i}, '_')) AS numbers${i}`,
    `count_if(length(t${i}) IN (4, 5) AND lower(t${i}) IN ('true', 'false')) AS booleans${i}`,
    `count(d${i}) AS dates${i}`,
    `count_if(length(t${i}) = 10 AND d${i} IS NOT NULL) AS plaindates${i}`,
    // An infinite or overflowing number (inf, 1e400) is an error of the file: the streaming analyser names it.
    `count_if(isinf(n${i})) AS infinite${i}`,
    `min(n${i}) FILTER (WHERE ${present}) AS min${i}`,
    `max(n${i}) FILTER (WHERE ${present}) AS max${i}`,
    `sum(n${i}) FILTER (WHERE ${present}) AS sum${i}`,
    `min(d${i}) AS dmin${i}`,
    `max(d${i}) AS dmax${i}`,
  ];
}

type Row = Record<string, unknown>;

function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** The streaming analyser's type precedence: all booleans, else all numbers, else all dates, else text. */
function textColumnStats(name: string, row: Row, i: number, rowCount: number): ColumnStats {
  const missing = num(row[`missing${i}`]);
  const present = rowCount - missing;
  const type: ColumnType =
    present === 0
      ? 'STRING'
      : num(row[`booleans${i}`]) === present
        ? 'BOOLEAN'
        : num(row[`numbers${i}`]) === present
          ? 'NUMBER'
          : num(row[`dates${i}`]) === present
            ? 'DATE'
            : isFreeText(present, num(row[`distinct${i}`]), num(row[`textlen${i}`]))
              ? 'TEXT'
              : 'STRING';
  const numeric = type === 'NUMBER';
  const date = type === 'DATE';
  return {
    name,
    type,
    missing,
    distinct: num(row[`distinct${i}`]),
    min: numeric ? nullableNumber(row[`min${i}`]) : date ? nullableNumber(row[`dmin${i}`]) : null,
    max: numeric ? nullableNumber(row[`max${i}`]) : date ? nullableNumber(row[`dmax${i}`]) : null,
    mean: numeric ? num(row[`sum${i}`]) / present : null,
  };
}

async function hasNulByte(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return false;
      if (buffer.subarray(0, bytesRead).indexOf(0) >= 0) return true;
    }
  } finally {
    await handle.close();
  }
}

async function firstRow(connection: DuckDBConnection, sql: string): Promise<Row> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS()[0] as Row;
}

/** Rows the type of each column is first guessed from; the full pass then checks the guess on every row. */
const SAMPLE_ROWS = 4096;

/**
 * The full pass for one column, by the type its sample shows. A NUMBER column is read by the CSV reader
 * as DOUBLE (the missing markers as NULL: the fastest path, no text kept); a STRING column only needs its
 * missing and distinct counts (one value that is none of the other types settles it); any other column
 * gets the text checks.
 */
type Guess = ColumnType | 'TEXT' | undefined;

function typedPlan(i: number, guess: Guess): { type: string; cells: string[]; aggregates: string[] } {
  if (guess === 'NUMBER') {
    return {
      type: 'DOUBLE',
      cells: [`c${i} AS v${i}`],
      aggregates: [
        `count(v${i}) AS present${i}`,
        // Distinct 64-bit hashes: a smaller hash table than the values, and a collision is a 1-in-10^12 event at 10M.
        `count(DISTINCT hash(v${i})) AS distinct${i}`,
        // inf, 1e400 and nan (NaN in any other spelling) show in the range: DuckDB sorts NaN above infinity.
        `min(v${i}) AS min${i}`,
        `max(v${i}) AS max${i}`,
        `sum(v${i}) AS sum${i}`,
      ],
    };
  }
  if (guess === 'DATE') {
    // Plain dates (2024-01-31) in the sample: the CSV reader parses them as DATE, ms since 1970 in UTC.
    // The DATE cast would also take 2024-01-31T10:00 (dropping the time): a value that is not 10 characters
    // long leaves `plain` short of the present count, and the text pass decides.
    return {
      type: 'VARCHAR',
      cells: [
        `CASE WHEN length(c${i}) = 10 THEN epoch_ms(TRY_CAST(c${i} AS DATE)::TIMESTAMP) END AS v${i}`,
        `c${i} AS raw${i}`,
      ],
      aggregates: [
        `count(*) - count(raw${i}) AS missing${i}`,
        `count(v${i}) AS plain${i}`,
        `count(DISTINCT v${i}) AS distinct${i}`,
        `min(v${i}) AS min${i}`,
        `max(v${i}) AS max${i}`,
      ],
    };
  }
  if (guess === 'STRING') {
    // The CSV reader has made the exact markers NULL; a marker padded with spaces is still missing. Trimming
    // spaces is cheap; a cell edged by a tab or line break sends the file to the text pass (full trim).
    return {
      type: 'VARCHAR',
      cells: [`trim(c${i}) AS t${i}`, `c${i} AS raw${i}`],
      aggregates: [
        `count(*) - count(t${i}) + count_if(t${i} IN ${MISSING}) AS missing${i}`,
        `count(DISTINCT t${i}) AS distinct${i}`,
        `sum(length(t${i})) FILTER (WHERE t${i} NOT IN ${MISSING}) AS textlen${i}`,
        `bit_or(CASE t${i} WHEN '' THEN 1 WHEN 'NA' THEN 2 WHEN 'NaN' THEN 4 WHEN 'null' THEN 8 ELSE 0 END)
          AS markers${i}`,
        `count_if(raw${i} LIKE '	%' OR raw${i} LIKE '%	' OR raw${i} LIKE '
%' OR raw${i} LIKE '%
' OR raw${i} LIKE '%
') AS infinite${i}`,
      ],
    };
  }
  return { type: 'VARCHAR', cells: textCellExpressions(`c${i}`, i), aggregates: textAggregates(i) };
}

function statsFor(name: string, row: Row, i: number, rowCount: number, guess: Guess): ColumnStats | undefined {
  if (guess === 'DATE') {
    const missing = num(row[`missing${i}`]);
    if (num(row[`plain${i}`]) !== rowCount - missing) return undefined;
    if (missing === rowCount) return { name, type: 'STRING', missing, distinct: 0, min: null, max: null, mean: null };
    const range = { min: nullableNumber(row[`min${i}`]), max: nullableNumber(row[`max${i}`]) };
    return { name, type: 'DATE', missing, distinct: num(row[`distinct${i}`]), ...range, mean: null };
  }
  if (guess === 'NUMBER') {
    const present = num(row[`present${i}`]);
    const missing = rowCount - present;
    if (present === 0) return { name, type: 'STRING', missing, distinct: 0, min: null, max: null, mean: null };
    const stats = {
      min: nullableNumber(row[`min${i}`]),
      max: nullableNumber(row[`max${i}`]),
      mean: num(row[`sum${i}`]) / present,
    };
    return { name, type: 'NUMBER', missing, distinct: num(row[`distinct${i}`]), ...stats };
  }
  if (guess === 'STRING') {
    const markers = num(row[`markers${i}`]);
    const distinct =
      num(row[`distinct${i}`]) - ((markers & 1) + ((markers >> 1) & 1) + ((markers >> 2) & 1) + ((markers >> 3) & 1));
    const missing = num(row[`missing${i}`]);
    const type = isFreeText(rowCount - missing, distinct, num(row[`textlen${i}`])) ? 'TEXT' : 'STRING';
    return { name, type, missing, distinct, min: null, max: null, mean: null };
  }
  return textColumnStats(name, row, i, rowCount);
}

/**
 * Each column's type on the first rows, by the streaming analyser's own rules (cells.ts); undefined for a
 * column with no value there. The full pass checks every guess on every row.
 */
async function guessTypes(path: string): Promise<{ names: string[]; guesses: Guess[] } | undefined> {
  let names: string[] = [];
  const rows = readDatasetRows(path, 'csv', (columns) => (names = columns));
  const seen: { present: number; numbers: number; booleans: number; dates: number; plain: number }[] = [];
  try {
    let count = 0;
    for await (const row of rows) {
      names.forEach((name, i) => {
        const counts = (seen[i] ??= { present: 0, numbers: 0, booleans: 0, dates: 0, plain: 0 });
        const text = String(row.cells[name] ?? '').trim();
        if (isMissingText(text)) return;
        if (text.length <= 9 && /^[+-]?(?:inf|infinity)$/i.test(text))
          throw new DatasetError('left to the streaming analyser');
        counts.present++;
        if (isNumberText(text)) counts.numbers++;
        if (isBooleanCell(text)) counts.booleans++;
        if (isDateCell(text)) {
          counts.dates++;
          if (text.length === 10) counts.plain++;
        }
      });
      if (++count >= SAMPLE_ROWS) break;
    }
    if (count === 0) return undefined;
  } catch (error) {
    if (error instanceof DatasetError && error.message === 'left to the streaming analyser') return undefined;
    throw error;
  } finally {
    await rows.return(undefined);
  }
  const guesses = names.map((_, i): Guess => {
    const counts = seen[i];
    if (!counts || counts.present === 0) return undefined;
    if (counts.booleans === counts.present) return 'BOOLEAN';
    if (counts.numbers === counts.present) return 'NUMBER';
    // Dates with a time of day keep the text checks (their zone rules are Date.parse's).
    if (counts.dates === counts.present) return counts.plain === counts.present ? 'DATE' : 'TEXT';
    return 'STRING';
  });
  return { names, guesses };
}

/** A CSV's analysis by DuckDB, or undefined when the streaming analyser must decide (see above). */
/**
 * Columns one DuckDB query aggregates at most. Each column's exact distinct count holds a hash table per thread, and
 * one query over a wide table (784 pixel columns of MNIST) took over 20 GB: a CSV wider than this goes to the
 * streaming analyser (wide files are short: it is fast there), a Parquet file is aggregated in groups of columns
 * (columnar, so each group reads only its own columns).
 */
export const DUCKDB_MAX_COLUMNS = 48;

export async function analyzeCsvWithDuckDB(path: string, tempDirectory?: string): Promise<DatasetAnalysis | undefined> {
  const guessed = await guessTypes(path);
  if (!guessed || guessed.names.length > DUCKDB_MAX_COLUMNS) return undefined;
  // DuckDB reads a NUL byte as text; the scan for one runs on this thread while DuckDB works on its own.
  const nul = hasNulByte(path);
  nul.catch(() => undefined);
  const analysis = await analyzeCsvText(path, guessed.names, guessed.guesses, tempDirectory);
  return (await nul) ? undefined : analysis;
}

async function analyzeCsvText(
  path: string,
  names: string[],
  guesses: Guess[],
  tempDirectory?: string,
): Promise<DatasetAnalysis | undefined> {
  const engine = await openEngine(tempDirectory);
  try {
    const text = await csvSource(path, names.length);
    const cells = names.flatMap((_, i) => textCellExpressions(`c${i}`, i));
    const aggregates = names.flatMap((_, i) => textAggregates(i));
    const textQuery = (source: string) => `WITH cells AS (SELECT ${cells.join(', ')} FROM ${source})
      SELECT count(*) AS row_count, ${aggregates.join(', ')} FROM cells`;
    const plans = guesses.map((guess, i) => typedPlan(i, guess));
    const typed = await csvSource(
      path,
      names.length,
      plans.map((plan) => plan.type),
    );
    try {
      const row = await firstRow(
        engine.connection,
        `WITH cells AS (SELECT ${plans.flatMap((plan) => plan.cells).join(', ')} FROM ${typed})
        SELECT count(*) AS row_count, ${plans.flatMap((plan) => plan.aggregates).join(', ')} FROM cells`,
      );
      const rowCount = num(row.row_count);
      const finite = (i: number) =>
        guesses[i] === 'NUMBER'
          ? [row[`min${i}`], row[`max${i}`]].every((v) => v === null || Number.isFinite(Number(v)))
          : num(row[`infinite${i}`]) === 0;
      const columns = names.map((name, i) => statsFor(name, row, i, rowCount, guesses[i]));
      if (names.every((_, i) => finite(i)) && columns.every((column) => column !== undefined))
        return { rowCount, columns };
    } catch {
      // A guess the rest of the file contradicts (a word in a number column): the text checks decide.
    }
    let row: Row;
    try {
      row = await firstRow(engine.connection, textQuery(text));
    } catch {
      return undefined;
    }
    const rowCount = num(row.row_count);
    if (rowCount === 0) return undefined;
    if (names.some((_, i) => num(row[`infinite${i}`]) > 0)) return undefined;
    return { rowCount, columns: names.map((name, i) => textColumnStats(name, row, i, rowCount)) };
  } finally {
    engine.close();
  }
}

const NUMBER_TYPES =
  /^(?:TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const DATE_TYPES = /^(?:DATE|TIMESTAMP.*)$/;
const TEXT_TYPES = /^(?:VARCHAR|UUID|TIME|TIME WITH TIME ZONE|ENUM.*)$/;

export type ParquetColumnKind = 'number' | 'boolean' | 'date' | 'text';

/** Columns of a Parquet file and how each is read; nested and binary columns are refused by name. */
export async function parquetColumns(
  connection: DuckDBConnection,
  path: string,
): Promise<{ name: string; kind: ParquetColumnKind }[]> {
  let described: Row[];
  try {
    described = (
      await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`)
    ).getRowObjectsJS() as Row[];
  } catch (error) {
    throw new DatasetError(`the file is not a readable Parquet file: ${(error as Error).message.split('\n')[0]}`);
  }
  if (described.length === 0) throw new DatasetError('the Parquet file has no columns');
  const seen = new Set<string>();
  return described.map((column, index) => {
    const name = String(column.column_name);
    const type = String(column.column_type);
    if (!name.trim()) throw new DatasetError(`Parquet column ${index + 1} has an empty name`);
    if (seen.has(name)) throw new DatasetError(`Parquet column ${index + 1} repeats the name "${name}"`);
    seen.add(name);
    if (NUMBER_TYPES.test(type)) return { name, kind: 'number' };
    if (type === 'BOOLEAN') return { name, kind: 'boolean' };
    if (DATE_TYPES.test(type)) return { name, kind: 'date' };
    if (TEXT_TYPES.test(type)) return { name, kind: 'text' };
    throw new DatasetError(
      `Parquet column "${name}" has type ${type}; only flat number, boolean, date and text columns are supported`,
    );
  });
}

/** The SQL of a Parquet column's values as the training path reads them: a number, 0/1, ms since 1970 or text. */
export function parquetValue(kind: ParquetColumnKind, column: string): string {
  switch (kind) {
    case 'number':
      return `CAST(${column} AS DOUBLE)`;
    case 'boolean':
      return `CAST(${column} AS DOUBLE)`;
    case 'date':
      return `CAST(epoch_ms(CAST(${column} AS TIMESTAMP)) AS DOUBLE)`;
    case 'text':
      return `CAST(${column} AS VARCHAR)`;
  }
}

/** A Parquet file's analysis: typed columns keep their type; text columns follow the CSV rules. */
export async function analyzeParquetWithDuckDB(path: string, tempDirectory?: string): Promise<DatasetAnalysis> {
  const engine = await openEngine(tempDirectory);
  try {
    const columns = await parquetColumns(engine.connection, path);
    const cells: string[] = [];
    const aggregates: string[] = [];
    columns.forEach(({ name, kind }, i) => {
      const quoted = `"${name.replace(/"/g, '""')}"`;
      if (kind === 'text') {
        cells.push(...textCellExpressions(parquetValue(kind, quoted), i));
        aggregates.push(...textAggregates(i));
        return;
      }
      // NaN is missing, as in a CSV; an infinite number is an error.
      const value = parquetValue(kind, quoted);
      cells.push(`CASE WHEN isnan(${value}) THEN NULL ELSE ${value} END AS v${i}`, `isinf(${value}) AS inf${i}`);
      aggregates.push(
        `count(*) - count(v${i}) AS missing${i}`,
        `count(DISTINCT v${i}) AS distinct${i}`,
        `count_if(inf${i}) AS infinite${i}`,
        `min(v${i}) AS min${i}`,
        `max(v${i}) AS max${i}`,
        `sum(v${i}) AS sum${i}`,
      );
    });
    let row: Row = {};
    try {
      // Cells and aggregates of a column are named by its index: a group's query covers exactly its own.
      const ofColumns = (list: string[], from: number, to: number) =>
        list.filter((sql) => {
          const index = Number(/(\d+)$/.exec(sql)![1]);
          return index >= from && index < to;
        });
      for (let from = 0; from < columns.length; from += DUCKDB_MAX_COLUMNS) {
        const to = Math.min(columns.length, from + DUCKDB_MAX_COLUMNS);
        const group = await firstRow(
          engine.connection,
          `WITH cells AS (SELECT ${ofColumns(cells, from, to).join(', ')} FROM read_parquet(${sqlString(path)}))
          SELECT count(*) AS row_count, ${ofColumns(aggregates, from, to).join(', ')} FROM cells`,
        );
        row = { ...row, ...group };
      }
    } catch (error) {
      throw new DatasetError(`the Parquet file cannot be read: ${(error as Error).message.split('\n')[0]}`);
    }
    const rowCount = num(row.row_count);
    if (rowCount === 0) throw new DatasetError('the file has no data rows');
    return {
      rowCount,
      columns: columns.map(({ name, kind }, i) => {
        if (num(row[`infinite${i}`]) > 0) {
          throw new DatasetError(
            `column "${name}": ${num(row[`infinite${i}`])} value(s) are infinite (use null or NaN for a missing value)`,
          );
        }
        if (kind === 'text') return textColumnStats(name, row, i, rowCount);
        const missing = num(row[`missing${i}`]);
        const present = rowCount - missing;
        const type: ColumnType =
          present === 0 ? 'STRING' : kind === 'number' ? 'NUMBER' : kind === 'boolean' ? 'BOOLEAN' : 'DATE';
        const ranged = type === 'NUMBER' || type === 'DATE';
        return {
          name,
          type,
          missing,
          distinct: num(row[`distinct${i}`]),
          min: ranged ? nullableNumber(row[`min${i}`]) : null,
          max: ranged ? nullableNumber(row[`max${i}`]) : null,
          mean: type === 'NUMBER' ? num(row[`sum${i}`]) / present : null,
        };
      }),
    };
  } finally {
    engine.close();
  }
}
