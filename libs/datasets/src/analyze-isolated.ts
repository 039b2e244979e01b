import { Worker } from 'node:worker_threads';
import { type DatasetAnalysis } from './dataset-analysis.js';
import { DatasetError } from './dataset-error.js';
import type { DatasetFormat } from './dataset-reader.js';

/**
 * Analyses a dataset file on a worker thread with a small heap of its own: the API's event loop
 * stays free during a long upload analysis, and parsing garbage cannot grow the API's heap
 * (V8 collects a capped heap early instead of letting it grow).
 */
export function analyzeDatasetIsolated(path: string, format: DatasetFormat, maxUnpackedBytes = Infinity): Promise<DatasetAnalysis> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./analysis.worker.js', import.meta.url), {
      workerData: { path, format, maxUnpackedBytes },
      // Images decode into buffers outside this heap; the JS heap of a decoder still needs more than a CSV parser.
      resourceLimits: { maxOldGenerationSizeMb: format === 'images' ? 256 : 48, maxYoungGenerationSizeMb: format === 'images' ? 16 : 4 },
    });
    let settled = false;
    worker.once('message', (message: { ok: true; analysis: DatasetAnalysis } | { ok: false; datasetError: boolean; message: string }) => {
      settled = true;
      if (message.ok) resolve(message.analysis);
      else reject(message.datasetError ? new DatasetError(message.message) : new Error(message.message));
      void worker.terminate();
    });
    worker.once('error', (error: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      reject(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new DatasetError('the file has too many distinct values in too many columns to analyse') : error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`dataset analysis stopped unexpectedly (exit code ${code})`));
    });
  });
}
