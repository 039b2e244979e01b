import { parentPort, workerData } from 'node:worker_threads';

import { analyzeDataset } from './dataset-analysis.js';
import { DatasetError } from './dataset-error.js';
import type { DatasetFormat } from './dataset-reader.js';
import { analyzeImageArchive } from './images/image-analysis.js';

const { path, format, maxUnpackedBytes } = workerData as {
  path: string;
  format: DatasetFormat;
  maxUnpackedBytes: number;
};
try {
  const analysis =
    format === 'images' ? await analyzeImageArchive(path, maxUnpackedBytes) : await analyzeDataset(path, format);
  parentPort!.postMessage({ ok: true, analysis });
} catch (error) {
  parentPort!.postMessage({
    ok: false,
    datasetError: error instanceof DatasetError,
    message: (error as Error).message,
  });
}
