import { join } from 'node:path';
import type { Cell, DatasetFormat } from '../../../../libs/datasets/src/index.js';
import { readDatasetRows } from '../../../../libs/datasets/src/index.js';

/** Reads the columns a run uses from a stored dataset file (named by the dataset's id under DATA_DIR). */
export async function loadDatasetRows(dataDir: string, datasetId: string, format: DatasetFormat, columns: string[]): Promise<Record<string, Cell>[]> {
  const rows: Record<string, Cell>[] = [];
  for await (const row of readDatasetRows(join(dataDir, 'datasets', datasetId), format)) {
    const picked = Object.create(null) as Record<string, Cell>; // a column may be named __proto__
    for (const column of columns) picked[column] = row.cells[column] ?? null;
    rows.push(picked);
  }
  return rows;
}
