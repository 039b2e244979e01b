import { parentPort, workerData } from 'node:worker_threads';
import { analyzeDataset } from './dataset-analysis.js';
import { DatasetError } from './dataset-error.js';
import type { DatasetFormat } from './dataset-reader.js';

const { path, format } = workerData as { path: string; format: DatasetFormat };
try {
  parentPort!.postMessage({ ok: true, analysis: await analyzeDataset(path, format) });
} catch (error) {
  parentPort!.postMessage({ ok: false, datasetError: error instanceof DatasetError, message: (error as Error).message });
}
