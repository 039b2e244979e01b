import { dirname, join } from 'node:path';

import { analyzeDatasetInWorker } from './analyze-isolated.js';
import { DatasetError } from './dataset-error.js';
import type { DatasetFormat } from './dataset-reader.js';
import { analyzeCsvWithDuckDB, analyzeParquetWithDuckDB } from './duckdb-analysis.js';

/**
 * A child process that analyses one dataset file and reports over IPC. CSV and Parquet go through DuckDB
 * (its memory stays in this process, never the API's); a CSV DuckDB cannot decide exactly, and JSON Lines,
 * go through the streaming analyser on a capped worker thread, which names the row and column at fault.
 */
// A spare waiting for work ends with its parent.
process.once('disconnect', () => process.exit(0));

process.once('message', async ({ path, format }: { path: string; format: DatasetFormat }) => {
  try {
    // DuckDB creates this folder for what it spills and removes it when it closes.
    const spill = join(dirname(path), `.engine-${process.pid}`);
    const analysis =
      format === 'parquet'
        ? await analyzeParquetWithDuckDB(path, spill)
        : ((format === 'csv' ? await analyzeCsvWithDuckDB(path, spill) : undefined) ??
          (await analyzeDatasetInWorker(path, format)));
    process.send!({ ok: true, analysis }, () => process.exit(0));
  } catch (error) {
    process.send!({ ok: false, datasetError: error instanceof DatasetError, message: (error as Error).message }, () =>
      process.exit(0),
    );
  }
});
