import type { DuckDBVector } from '@duckdb/node-api';

import { type ColumnType, isStringType } from './cells.js';
import { columnBuilder, type ColumnTable, NumericColumnBuilder, TextColumnBuilder } from './column-table.js';
import type { DatasetFormat } from './dataset-reader.js';
import { parquetColumns, parquetValue } from './duckdb-analysis.js';
import { csvHeader, csvSource, openEngine, sqlString } from './duckdb-engine.js';

const MISSING = `('', 'NA', 'NaN', 'null')`;
const WHITESPACE = sqlString(' \t\n\r\v\f\u00a0\ufeff\u2028\u2029');
const DATE_PATTERN = sqlString(
  '^\\d{4}-\\d{2}-\\d{2}(?:[T ]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}:?\\d{2})?)?$',
);

/**
 * The SQL reading one text cell as its column's type, by typedCell's rules: NULL when missing, NaN when
 * present but unreadable, else a DOUBLE (0/1 for a boolean, ms since 1970 for a date). STRING stays text.
 */
function fromText(raw: string, type: ColumnType): string {
  if (isStringType(type)) return raw;
  const t = `trim(${raw}, ${WHITESPACE})`;
  const value =
    type === 'NUMBER'
      ? `TRY_CAST(${t} AS DOUBLE)`
      : type === 'BOOLEAN'
        ? `CAST(lower(${t}) = 'true' AS DOUBLE)`
        : `CASE WHEN regexp_full_match(${t}, ${DATE_PATTERN}) THEN CAST(CASE WHEN length(${t}) = 10
            THEN epoch_ms(TRY_CAST(${t} AS DATE)::TIMESTAMP)
            ELSE epoch_ms(TRY_CAST(${t} AS TIMESTAMPTZ)) END AS DOUBLE) END`;
  return `CASE WHEN ${raw} IS NULL OR ${t} IN ${MISSING} THEN NULL ELSE coalesce(${value}, 'NaN'::DOUBLE) END`;
}

/**
 * Reads the named columns of a CSV or Parquet file straight into typed arrays (no object per row): DuckDB
 * parses in parallel and hands over 2048-row vectors. A NUMBER column of a CSV is parsed as DOUBLE by the
 * reader itself; if that fails (a padded cell), every column is read as text and converted by fromText.
 */
export async function loadTableWithDuckDB(
  path: string,
  format: Exclude<DatasetFormat, 'jsonl'>,
  columns: { name: string; type: ColumnType }[],
  rowCountHint = 0,
): Promise<ColumnTable> {
  const engine = await openEngine();
  try {
    const queries: string[] = [];
    if (format === 'parquet') {
      const kinds = new Map(
        (await parquetColumns(engine.connection, path)).map((column) => [column.name, column.kind]),
      );
      const select = columns.map(({ name, type }) => {
        const quoted = `"${name.replace(/"/g, '""')}"`;
        const kind = kinds.get(name) ?? 'text';
        const value = parquetValue(kind, quoted);
        // Typed Parquet columns are read as numbers already (NaN is missing there, as in a CSV).
        return kind === 'text' ? fromText(value, type) : `CASE WHEN isnan(${value}) THEN NULL ELSE ${value} END`;
      });
      queries.push(`SELECT ${select.join(', ')} FROM read_parquet(${sqlString(path)})`);
    } else {
      const header = await csvHeader(path);
      const index = new Map(header.map((name, i) => [name, i]));
      const wanted = columns.map(({ name, type }) => ({ column: `c${index.get(name)}`, type }));
      // Numbers parsed by the reader itself; plain dates (2024-01-31, the common case) by a cast, others by fromText.
      const types = header.map((name) =>
        columns.find((column) => column.name === name)?.type === 'NUMBER' ? 'DOUBLE' : 'VARCHAR',
      );
      const typed = await csvSource(path, header.length, types);
      // The reader reads a padded ' NaN ' as NaN: a missing marker all the same.
      const typedValue = (column: string, type: ColumnType) =>
        type === 'NUMBER'
          ? `CASE WHEN isnan(${column}) THEN NULL ELSE ${column} END`
          : type === 'DATE'
            ? `CASE WHEN length(${column}) = 10
                THEN coalesce(CAST(epoch_ms(TRY_CAST(${column} AS DATE)::TIMESTAMP) AS DOUBLE), 'NaN'::DOUBLE)
                ELSE ${fromText(column, type)} END`
            : fromText(column, type);
      queries.push(`SELECT ${wanted.map(({ column, type }) => typedValue(column, type)).join(', ')} FROM ${typed}`);
      const text = await csvSource(path, header.length);
      queries.push(`SELECT ${wanted.map(({ column, type }) => fromText(column, type)).join(', ')} FROM ${text}`);
    }
    let lastError: unknown;
    for (const sql of queries) {
      try {
        return await readTable(engine.connection, sql, columns, rowCountHint);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  } finally {
    engine.close();
  }
}

async function readTable(
  connection: Awaited<ReturnType<typeof openEngine>>['connection'],
  sql: string,
  columns: { name: string; type: ColumnType }[],
  rowCountHint: number,
): Promise<ColumnTable> {
  const builders = columns.map(({ type }) => columnBuilder(type, rowCountHint));
  // Materialised: DuckDB runs the query on all its threads, then hands over its 2048-row chunks.
  const result = await connection.run(sql);
  let rowCount = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const size = chunk.rowCount;
    builders.forEach((builder, i) => {
      const vector = chunk.getColumnVector(i) as DuckDBVector<number | string | null>;
      if (builder instanceof NumericColumnBuilder) {
        for (let row = 0; row < size; row++) builder.setValue(rowCount + row, vector.getItem(row) as number | null);
      } else if (builder instanceof TextColumnBuilder) {
        for (let row = 0; row < size; row++) builder.set(rowCount + row, vector.getItem(row) as string | null);
      }
    });
    rowCount += size;
  }
  return { rowCount, columns: new Map(columns.map(({ name }, i) => [name, builders[i].build(rowCount)])) };
}
