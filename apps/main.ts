import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../libs/config/src/index.js';
import { applyMigrations } from '../libs/db/src/index.js';

/**
 * `npm start`: the API in this process and one training worker in a child process, so training
 * never blocks a request. Stopping this process stops both (the worker gets SIGTERM and hands
 * its run back to the queue).
 */
const config = loadConfig();
await applyMigrations(config.databaseUrl);
const { startApi } = await import('./api/src/main.js');
const api = await startApi(config);

let stopping = false;
let worker: ChildProcess;
function startWorker(): void {
  worker = fork(fileURLToPath(new URL('./worker/src/main.js', import.meta.url)), { stdio: 'inherit' });
  worker.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`training worker exited (${signal ?? code}); restarting it`);
    setTimeout(startWorker, 1_000);
  });
}
startWorker();

async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.kill(signal);
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  await api.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGTERM'));
process.on('SIGTERM', () => void stop('SIGTERM'));
