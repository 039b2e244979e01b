import { dirname, join } from 'node:path';

import { analyzeDatasetInWorker } from './analyze-isolated.js';
import { DatasetError } from './dataset-error.js';
import type { DatasetFormat } from './dataset-reader.js';
import { analyzeCsvWithDuckDB, analyzeParquetWithDuckDB } from './duckdb-analysis.js';

/**
 * A child process that analyses dataset files, one at a time, and reports each over IPC. CSV and Parquet go
 * through DuckDB (its memory stays in this process, never the API's); a CSV DuckDB cannot decide exactly, and JSON
 * Lines, go through the streaming analyser on a capped worker thread, which names the row and column at fault.
 *
 * It serves one analysis after another, because starting a process and loading DuckDB costs far more than
 * analysing a small file; once an analysis has left it holding more than RECYCLE_RSS_BYTES (a large file's
 * buffers), it says so in its answer and exits, so that memory goes back to the system.
 */
const RECYCLE_RSS_BYTES = 200 * 1024 * 1024;

// An idle process ends with its parent.
process.once('disconnect', () => process.exit(0));

process.on('message', async ({ path, format }: { path: string; format: DatasetFormat }) => {
  let answer;
  try {
    // DuckDB creates this folder for what it spills and removes it when it closes.
    const spill = join(dirname(path), `.engine-${process.pid}`);
    const analysis =
      format === 'parquet'
        ? await analyzeParquetWithDuckDB(path, spill)
        : ((format === 'csv' ? await analyzeCsvWithDuckDB(path, spill) : undefined) ??
          (await analyzeDatasetInWorker(path, format)));
    answer = { ok: true, analysis };
  } catch (error) {
    answer = { ok: false, datasetError: error instanceof DatasetError, message: (error as Error).message };
  }
  const retiring = process.memoryUsage.rss() > RECYCLE_RSS_BYTES;
  process.send!({ ...answer, retiring }, () => retiring && process.exit(0));
});
