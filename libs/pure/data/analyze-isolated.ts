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

/**
 * At most one analysis at once per CPU (at most 4): each process loads DuckDB (~100 MB) and uses every core it is
 * given, so 100 parallel uploads as 100 processes only fought for memory and CPU (some were killed); the others wait.
 */
const ANALYSIS_SLOTS = Math.max(1, Math.min(4, availableParallelism()));

/**
 * Analysis processes waiting for work. One serves analysis after analysis (starting a process and loading DuckDB
 * costs far more than analysing a small file) until it retires itself after a large file (analysis.process.ts);
 * an idle one never keeps the API alive, and dies with it.
 */
const idle: ChildProcess[] = [];

function alive(child: ChildProcess): boolean {
  return child.connected && child.exitCode === null && child.signalCode === null;
}

function startAnalysisProcess(): ChildProcess {
  const child = fork(new URL('./analysis.process.js', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  setIdle(child);
  child.on('error', () => undefined);
  child.once('exit', () => {
    const at = idle.indexOf(child);
    if (at >= 0) idle.splice(at, 1);
  });
  return child;
}

/** An idle process must not keep a process alive that would otherwise exit (a CLI, a test). */
function setIdle(child: ChildProcess): void {
  child.unref();
  (child.channel as { unref?(): void } | undefined)?.unref?.();
}

function takeAnalysisProcess(): ChildProcess {
  let child = idle.pop();
  while (child && !alive(child)) child = idle.pop();
  child ??= startAnalysisProcess();
  (child.channel as { ref?(): void } | undefined)?.ref?.();
  child.ref();
  return child;
}

/**
 * Analyses a dataset file in a child process (analysis.process.ts): the API's event loop stays free, and
 * neither DuckDB's buffers nor parsing garbage ever land in the API's memory.
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

const analysisSlots = (() => {
  let free = ANALYSIS_SLOTS;
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
    const onMessage = (message: AnalysisMessage & { retiring: boolean }) => {
      child.off('exit', onExit);
      child.off('error', onError);
      settle(message, resolve, reject);
      // A retiring process exits by itself; a fresh one is started now, so the next upload finds DuckDB loaded.
      // Either way there are never more processes than slots: one is only started when none is idle.
      if (message.retiring) idle.push(startAnalysisProcess());
      else {
        setIdle(child);
        idle.push(child);
      }
    };
    const onError = (error: Error) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      reject(error);
      child.kill();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      child.off('message', onMessage);
      child.off('error', onError);
      reject(new Error(`dataset analysis stopped unexpectedly (exit code ${code}, signal ${signal})`));
    };
    child.once('message', onMessage);
    child.once('error', onError);
    child.once('exit', onExit);
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
