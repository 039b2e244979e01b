import type { Cell, ColumnStats, ColumnTable, DatasetFormat } from '#libs/pure/data';
import { loadTableWithDuckDB, readDatasetRows, tableFromRows } from '#libs/pure/data';

import { datasetFile } from './dataset-folders.js';

/** Reads the columns a run uses from a stored dataset file (named by the dataset's id under DATA_DIR). */
export async function loadDatasetRows(
  dataDir: string,
  datasetId: string,
  format: DatasetFormat,
  columns: string[],
): Promise<Record<string, Cell>[]> {
  const rows: Record<string, Cell>[] = [];
  for await (const row of readDatasetRows(datasetFile(dataDir, datasetId), format)) {
    const picked = Object.create(null) as Record<string, Cell>; // a column may be named __proto__
    for (const column of columns) picked[column] = row.cells[column] ?? null;
    rows.push(picked);
  }
  return rows;
}

/**
 * The columns a run uses as typed arrays (see ColumnTable): CSV and Parquet read by DuckDB straight into
 * them, JSON Lines through the row reader.
 */
export async function loadDatasetTable(
  dataDir: string,
  dataset: { id: string; format: string; rowCount: number | null },
  columns: Pick<ColumnStats, 'name' | 'type'>[],
): Promise<ColumnTable> {
  const format = dataset.format as DatasetFormat;
  const path = datasetFile(dataDir, dataset.id);
  if (format === 'csv' || format === 'parquet')
    return loadTableWithDuckDB(path, format, columns, dataset.rowCount ?? 0);
  const rows = await loadDatasetRows(
    dataDir,
    dataset.id,
    format,
    columns.map((column) => column.name),
  );
  return tableFromRows(rows, columns);
}
