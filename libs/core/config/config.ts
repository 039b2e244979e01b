import { resolve } from 'node:path';

/** The one typed view of the process environment; nothing else reads process.env. */
export interface AppConfig {
  port: number;
  /** Interface the API binds: 127.0.0.1 unless told otherwise (the container images set HOST=0.0.0.0). */
  host: string;
  /**
   * The PostgreSQL URL. When DATABASE_URL is unset (`embeddedDatabase`), `npm start` starts an
   * embedded PostgreSQL under DATA_DIR/postgres and puts its URL here before anything connects;
   * until then (and for a lone API or worker process) it is the local default below.
   */
  databaseUrl: string;
  /** True when DATABASE_URL is unset: `npm start` runs its own PostgreSQL. */
  embeddedDatabase: boolean;
  /** Set: BullMQ on this Redis; unset: pg-boss on the service's PostgreSQL (queueDriverFor, libs/core/queue). */
  redisUrl: string | undefined;
  dataDir: string;
  apiKey: string | undefined;
  queue: { name: string; prefix: string };
  worker: {
    concurrency: number;
    heartbeatIntervalMs: number;
    heartbeatTimeoutMs: number;
    maxAttempts: number;
    /** Forces a TF.js backend (tensorflow, webgpu, wasm, cpu); unset picks the best one found. */
    backend: string | undefined;
    /** On wasm: the native SIMD training kernels (TRAINING_WASM_NATIVE=0 for the JS ones, to compare). */
    wasmNativeKernels: boolean;
    /** On wasm: threads for the conv kernels; unset means one per CPU, at most 4. */
    wasmThreads: number | undefined;
    /**
     * MiB of decoded training images a run keeps in memory (uint8); a larger images dataset is read from disk batch by
     * batch.
     */
    trainingCacheMb: number;
  };
  limits: { maxUploadBytes: number; maxPredictRows: number; maxModelParams: number; maxListItems: number };
  logLevel: string;
}

export class ConfigError extends Error {}

function bool(env: NodeJS.ProcessEnv, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'on'].includes(raw)) return true;
  if (['0', 'false', 'off'].includes(raw)) return false;
  throw new ConfigError(`${key} must be 1/true/on or 0/false/off, got "${raw}"`);
}

function int(env: NodeJS.ProcessEnv, key: string, fallback: number, min = 0): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${key} must be an integer ≥ ${min}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const config: AppConfig = {
    port: int(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/trainer',
    embeddedDatabase: !env.DATABASE_URL,
    redisUrl: env.REDIS_URL || undefined,
    dataDir: resolve(env.DATA_DIR || './.data'),
    apiKey: env.API_KEY || undefined,
    queue: { name: env.QUEUE_NAME || 'training', prefix: env.QUEUE_PREFIX || 'trainer' },
    worker: {
      concurrency: int(env, 'WORKER_CONCURRENCY', 1, 1),
      heartbeatIntervalMs: int(env, 'WORKER_HEARTBEAT_INTERVAL', 5_000, 100),
      heartbeatTimeoutMs: int(env, 'WORKER_HEARTBEAT_TIMEOUT', 30_000, 500),
      maxAttempts: int(env, 'MAX_ATTEMPTS', 3, 1),
      backend: env.TRAINING_BACKEND || undefined,
      wasmNativeKernels: bool(env, 'TRAINING_WASM_NATIVE', true),
      wasmThreads: env.TRAINING_WASM_THREADS ? int(env, 'TRAINING_WASM_THREADS', 1, 1) : undefined,
      trainingCacheMb: int(env, 'TRAINING_CACHE_MB', 1024, 1),
    },
    limits: {
      maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 2 * 1024 ** 3, 1),
      maxPredictRows: int(env, 'MAX_PREDICT_ROWS', 10_000, 1),
      maxModelParams: int(env, 'MAX_MODEL_PARAMS', 50_000_000, 1),
      // The plain list fields (runs, datasets, models, sweeps, Sweep.runs) return at most this many, newest first.
      maxListItems: int(env, 'MAX_LIST_ITEMS', 1_000, 1),
    },
    logLevel: env.LOG_LEVEL || 'info',
  };
  const { heartbeatIntervalMs, heartbeatTimeoutMs } = config.worker;
  // A timeout at or below the interval declares every run lost between two beats: refuse it rather than fail runs.
  if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
    throw new ConfigError(
      `WORKER_HEARTBEAT_TIMEOUT (${heartbeatTimeoutMs} ms) must be longer than ` +
        `WORKER_HEARTBEAT_INTERVAL (${heartbeatIntervalMs} ms), ` +
        'or every running run is taken for lost; a few intervals is usual (defaults 30000 and 5000)',
    );
  }
  return config;
}

/** Where a client on this machine reaches the API (a wildcard bind is reached through localhost). */
export function listenUrl(config: { host: string; port: number }): string {
  const host = ['0.0.0.0', '::'].includes(config.host)
    ? 'localhost'
    : config.host.includes(':')
      ? `[${config.host}]`
      : config.host;
  return `http://${host}:${config.port}`;
}
