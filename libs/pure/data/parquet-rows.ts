import type { Cell } from './cells.js';
import type { DatasetRow } from './dataset-reader.js';
import { parquetColumns, parquetValue } from './duckdb-analysis.js';
import { openEngine, sqlString } from './duckdb-engine.js';

/**
 * The rows of a Parquet file, read by DuckDB a chunk (2048 rows) at a time: numbers and booleans as numbers,
 * dates as ms since 1970 (what a DATE cell is fed as), text as text; `line` is the 1-based row number.
 */
export async function* readParquetRows(
  path: string,
  onColumns: (columns: string[]) => void,
): AsyncGenerator<DatasetRow> {
  const engine = await openEngine();
  try {
    const columns = await parquetColumns(engine.connection, path);
    onColumns(columns.map((column) => column.name));
    const select = columns.map(
      ({ name, kind }, i) => `${parquetValue(kind, `"${name.replace(/"/g, '""')}"`)} AS c${i}`,
    );
    const result = await engine.connection.stream(`SELECT ${select.join(', ')} FROM read_parquet(${sqlString(path)})`);
    let line = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const values = chunk.getColumns() as Cell[][];
      for (let row = 0; row < chunk.rowCount; row++) {
        const cells = Object.create(null) as Record<string, Cell>; // a column named __proto__ is a column
        columns.forEach(({ name, kind }, i) => {
          const value = values[i][row];
          cells[name] = kind === 'boolean' && value !== null ? value === 1 : value;
        });
        yield { line: ++line, cells };
      }
    }
  } finally {
    engine.close();
  }
}
