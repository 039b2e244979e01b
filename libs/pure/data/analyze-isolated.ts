import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import { type DatasetAnalysis } from './dataset-analysis.js';
import { DatasetError } from './dataset-error.js';
import type { DatasetFormat } from './dataset-reader.js';

/** How long a worker that has answered may take to exit by itself before it is terminated. */
const WORKER_EXIT_GRACE_MS = 10_000;

type AnalysisMessage = { ok: true; analysis: DatasetAnalysis } | { ok: false; datasetError: boolean; message: string };

function settle(
  message: AnalysisMessage,
  resolve: (analysis: DatasetAnalysis) => void,
  reject: (error: Error) => void,
): void {
  if (message.ok) resolve(message.analysis);
  else reject(message.datasetError ? new DatasetError(message.message) : new Error(message.message));
}

let spare: ChildProcess | undefined;

function startAnalysisProcess(): ChildProcess {
  const child = fork(new URL('./analysis.process.js', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  // An idle spare must not keep a process alive that would otherwise exit (a CLI, a test).
  child.unref();
  (child.channel as { unref?(): void } | undefined)?.unref?.();
  child.on('error', () => undefined);
  return child;
}

/** The spare process when it is still alive (one upload at a time takes it), else a fresh one. */
function takeAnalysisProcess(): ChildProcess {
  const child =
    spare && spare.connected && spare.exitCode === null && spare.signalCode === null ? spare : startAnalysisProcess();
  spare = undefined;
  (child.channel as { ref?(): void } | undefined)?.ref?.();
  child.ref();
  return child;
}

/**
 * Analyses a dataset file in a child process (analysis.process.ts): the API's event loop stays free, and
 * neither DuckDB's buffers nor parsing garbage ever land in the API's memory; the child's memory goes back
 * to the system when it exits.
 */
export async function analyzeDatasetIsolated(
  path: string,
  format: DatasetFormat,
  maxUnpackedBytes = Infinity,
): Promise<DatasetAnalysis> {
  // An image archive needs no DuckDB: its entries are decoded on a worker thread with a heap of its own.
  if (format === 'images') return analyzeDatasetInWorker(path, format, maxUnpackedBytes);
  await analysisSlots.acquire();
  try {
    return await analyzeInChildProcess(path, format);
  } finally {
    analysisSlots.release();
  }
}

/**
 * At most one analysis process per CPU at once (at most 4): each loads DuckDB (~100 MB) and uses every core it is
 * given, so 100 parallel uploads as 100 processes only fought for memory and CPU (some were killed); the others wait.
 */
const analysisSlots = (() => {
  let free = Math.max(1, Math.min(4, availableParallelism()));
  const waiting: (() => void)[] = [];
  return {
    acquire: (): Promise<void> => {
      if (free > 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    release: (): void => {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
})();

function analyzeInChildProcess(path: string, format: DatasetFormat): Promise<DatasetAnalysis> {
  return new Promise((resolve, reject) => {
    const child = takeAnalysisProcess();
    let settled = false;
    child.once('message', (message: AnalysisMessage) => {
      settled = true;
      settle(message, resolve, reject);
    });
    child.once('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    child.once('exit', (code, signal) => {
      if (!settled) reject(new Error(`dataset analysis stopped unexpectedly (exit code ${code}, signal ${signal})`));
      // The next upload finds a process with DuckDB already loaded (started now, not while this one analysed).
      spare ??= startAnalysisProcess();
    });
    child.send({ path, format });
  });
}

/**
 * The streaming analyser on a worker thread with a small heap of its own: parsing garbage cannot grow the
 * process's heap (V8 collects a capped heap early), and a file with too many distinct values is refused.
 */
export function analyzeDatasetInWorker(
  path: string,
  format: DatasetFormat,
  maxUnpackedBytes = Infinity,
): Promise<DatasetAnalysis> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./analysis.worker.js', import.meta.url), {
      workerData: { path, format, maxUnpackedBytes },
      // Images decode into buffers outside this heap; the JS heap of a decoder still needs more than a CSV parser.
      resourceLimits: {
        maxOldGenerationSizeMb: format === 'images' ? 256 : 48,
        maxYoungGenerationSizeMb: format === 'images' ? 16 : 4,
      },
    });
    let settled = false;
    worker.once('message', (message: AnalysisMessage) => {
      settled = true;
      settle(message, resolve, reject);
      // Not terminated at once: the worker's file streams close asynchronously after their last read, and a
      // thread terminated before that leaves their descriptors open in the process for good (the probe found
      // dataset files held open after many uploads). It exits by itself once they are closed.
      const stuck = setTimeout(() => void worker.terminate(), WORKER_EXIT_GRACE_MS);
      worker.once('exit', () => clearTimeout(stuck));
    });
    worker.once('error', (error: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      reject(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new DatasetError('the file has too many distinct values in too many columns to analyse')
          : error,
      );
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`dataset analysis stopped unexpectedly (exit code ${code})`));
    });
  });
}
