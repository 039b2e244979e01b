import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { listenUrl, loadConfig } from '#libs/core/config';
import { applyMigrations, type EmbeddedPostgres, startEmbeddedPostgres } from '#libs/core/db';
import { describeQueue } from '#libs/core/queue';

/**
 * `npm start`: the API in this process and one training worker in a child process, so training
 * never blocks a request. Without DATABASE_URL it first starts an embedded PostgreSQL under
 * DATA_DIR/postgres; without REDIS_URL the queue is pg-boss on that same PostgreSQL. Stopping this
 * process stops all three in order: the worker (SIGTERM: it hands its run back), the API, the database.
 *
 * The first line printed says where the service listens and what it runs on; the start-up chatter
 * before it is held back (printed after it at LOG_LEVEL=debug; warnings and errors always are).
 */
const config = loadConfig();
const WORKER_READY = /worker ready: backend (.+?), concurrency/;

// ---- hold start-up output back until the summary line is out
type Write = typeof process.stdout.write;
const realStdout = process.stdout.write.bind(process.stdout) as Write;
const realStderr = process.stderr.write.bind(process.stderr) as Write;
const held: { stream: 'out' | 'err'; text: string }[] = [];
let holding = true;
function hold(stream: 'out' | 'err'): Write {
  return ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    held.push({ stream, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString() });
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as Write;
}
process.stdout.write = hold('out');
process.stderr.write = hold('err');

function release(summary: string | undefined, everything: boolean): void {
  if (!holding) return;
  holding = false;
  process.stdout.write = realStdout;
  process.stderr.write = realStderr;
  if (summary) realStdout(`${summary}\n`);
  for (const { stream, text } of held) {
    if (stream === 'err') realStderr(text);
    else if (everything) realStdout(text);
  }
  held.length = 0;
}

/** The worker's backend in words: a machine without a GPU should read as expected, not as an error. */
function backendText(backend: string): string {
  return /^(wasm|cpu)\b/.test(backend) ? `no GPU found, training on ${backend}` : `training backend: ${backend}`;
}

// ---- processes
let stopping = false;
let database: EmbeddedPostgres | undefined;
let api: { close(): Promise<void> } | undefined;
let worker: ChildProcess | undefined;
let onWorkerReady: ((backend: string) => void) | undefined;

function startWorker(): void {
  const child = fork(fileURLToPath(new URL('./worker/src/main.js', import.meta.url)), {
    stdio: ['inherit', 'pipe', 'pipe', 'ipc'],
  });
  worker = child;
  let seen = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (!onWorkerReady) return;
    // eslint-disable-next-line no-control-regex
    seen = (seen + chunk.toString()).replace(/\u001b\[[0-9;]*m/g, '').slice(-4_000);
    const ready = WORKER_READY.exec(seen);
    if (ready) onWorkerReady(ready[1]);
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`training worker exited (${signal ?? code}); restarting it`);
    setTimeout(startWorker, 1_000);
  });
}

async function stop(signal: NodeJS.Signals, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  release(undefined, true);
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    const exited = new Promise((resolve) => worker!.once('exit', resolve));
    worker.kill(signal);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  }
  await api?.close().catch((error: Error) => console.error(`API close: ${error.message}`));
  await database?.stop().catch((error: Error) => console.error(`embedded PostgreSQL stop: ${error.message}`));
  process.exit(code);
}
process.on('SIGINT', () => void stop('SIGTERM'));
process.on('SIGTERM', () => void stop('SIGTERM'));

try {
  let databaseText: string;
  if (config.embeddedDatabase) {
    mkdirSync(config.dataDir, { recursive: true });
    const logFile = createWriteStream(join(config.dataDir, 'postgres.log'), { flags: 'a' });
    database = await startEmbeddedPostgres({ dataDir: config.dataDir, log: (text) => logFile.write(text) });
    config.databaseUrl = database.url;
    process.env.DATABASE_URL = database.url; // for the forked worker
    databaseText =
      `embedded PostgreSQL on 127.0.0.1:${database.port} (${database.initialised ? 'new cluster' : 'cluster'} in ` +
      `${database.clusterDir})`;
  } else {
    const url = new URL(config.databaseUrl);
    databaseText = `PostgreSQL at ${url.host}${url.pathname}`;
  }
  if (stopping) await new Promise(() => undefined);
  const queueText = describeQueue(config);

  await applyMigrations(config.databaseUrl);
  const { startApi } = await import('./api/src/main.js');
  // The API enables Nest's shutdown hooks (it closes itself on SIGTERM when run alone); here the
  // launcher closes it, after the worker and before the database, so those listeners come off.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;
  const ours = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  api = await startApi(config);
  for (const signal of signals) {
    for (const listener of process.listeners(signal))
      if (!ours.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  if (stopping) await new Promise(() => undefined);

  const backend = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('unknown (worker not ready after 120 s)'), 120_000);
    onWorkerReady = (found) => {
      clearTimeout(timer);
      onWorkerReady = undefined;
      resolve(found);
    };
    startWorker();
  });
  release(
    `trainer listening on ${listenUrl(config)} (GraphQL at ` +
      `/graphql${config.host === '127.0.0.1' ? '; this machine only, HOST=0.0.0.0 for all interfaces' : ''}); ` +
      `database: ${databaseText}; queue: ${queueText}; ${backendText(backend)}`,
    config.logLevel === 'debug',
  );
} catch (error) {
  release(undefined, true);
  console.error(error);
  await stop('SIGTERM', 1);
}
