import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { freePort } from './support/stack.js';

/**
 * "Runs anywhere": a fresh clone of what is committed, with the dependencies of the lock file, then
 * `npm start` with only PORT and DATA_DIR set: embedded PostgreSQL, pg-boss queue, whatever
 * training backend the machine has. One run trains to SUCCEEDED, the service stops on SIGTERM,
 * starts again on the same DATA_DIR and still knows the run.
 */
const ROOT = resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'npm_config_cache', 'NPM_CONFIG_CACHE', 'LANG'])
    if (process.env[key]) env[key] = process.env[key];
  return env;
}

/** Optional packages for an OS or CPU other than this one. */
const OTHER_PLATFORMS = [
  'darwin',
  'win32',
  'freebsd',
  'android',
  'linux-arm',
  'linux-ppc64',
  'linux-s390x',
  'linux-riscv64',
  'linux-ia32',
];
const OTHER_PLATFORM = new RegExp(`-(${OTHER_PLATFORMS.join('|')})`);

/**
 * The clone's dependencies: the checkout's own node_modules, linked file by file (`cp -al`, a second on one
 * filesystem), which is what `npm ci` of the same lock file installed before this suite ran (.ci/run does that
 * first, so the lock file is proven there). An install of its own cost this test 80 of its 118 s. Where hard links
 * cannot be made (another filesystem, no node_modules), `npm ci` from the local cache does it.
 */
function installDependencies(cwd: string): void {
  try {
    execFileSync('cp', ['-al', join(ROOT, 'node_modules'), join(cwd, 'node_modules')], { stdio: 'pipe' });
    return;
  } catch {
    rmSync(join(cwd, 'node_modules'), { recursive: true, force: true });
  }
  try {
    execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd,
      env: baseEnv(),
      stdio: 'pipe',
      timeout: 300_000,
    });
    return;
  } catch (error) {
    const text = String((error as { stderr?: Buffer }).stderr ?? error);
    const missing = [...text.matchAll(/Missing: (\S+?)@\S* from lock file/g)].map((m) => m[1]);
    if (!text.includes('EUSAGE') || missing.length === 0 || !missing.every((name) => OTHER_PLATFORM.test(name)))
      throw error;
    console.warn(
      `npm ci: lock file lacks other-platform optional packages (${missing.join(', ')}); using npm install ` +
        `--prefer-offline`,
    );
  }
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd,
    env: baseEnv(),
    stdio: 'pipe',
    timeout: 300_000,
  });
}

interface Service {
  child: ChildProcess;
  output: string[];
}

describe('runs anywhere: clone, dependencies, npm start with no settings', () => {
  const work = mkdtempSync(join(tmpdir(), 'tas-anywhere-'));
  // As root the embedded PostgreSQL runs as the `postgres` user, which must reach the binaries and DATA_DIR.
  chmodSync(work, 0o755);
  const repo = join(work, 'repo');
  const dataDir = join(work, 'data');
  const timings: Record<string, number> = {};
  let port = 0;
  let service: Service | undefined;

  function start(): Service {
    const output: string[] = [];
    const child = spawn('npm', ['start'], {
      cwd: repo,
      env: { ...baseEnv(), PORT: String(port), DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, signalled as a terminal or supervisor would
    });
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    return { child, output };
  }

  function groupAlive(child: ChildProcess): boolean {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function stop(svc: Service, signal: NodeJS.Signals, ms = 40_000): Promise<void> {
    if (groupAlive(svc.child)) process.kill(-svc.child.pid!, signal);
    const deadline = Date.now() + ms;
    while (groupAlive(svc.child) || existsSync(join(dataDir, 'postgres', 'postmaster.pid'))) {
      if (Date.now() > deadline) throw new Error(`service did not stop in ${ms} ms:\n${svc.output.join('')}`);
      await sleep(100);
    }
  }

  async function waitForHealth(svc: Service, ms = 240_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      if (svc.child.exitCode !== null)
        throw new Error(`npm start exited (${svc.child.exitCode}):\n${svc.output.join('')}`);
      if (Date.now() > deadline) throw new Error(`not healthy in ${ms} ms:\n${svc.output.join('')}`);
      await sleep(250);
    }
  }

  /** The first line the service prints (after npm's own `> script` banner lines). */
  async function firstLine(svc: Service, ms = 150_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const lines = svc.output
        .join('')
        .split('\n')
        .map((line) => line.trim());
      const first = lines.find(
        (line, i) => line && !line.startsWith('>') && !line.startsWith('npm warn') && i < lines.length - 1,
      );
      if (first) return first;
      if (Date.now() > deadline) throw new Error(`no output in ${ms} ms`);
      await sleep(100);
    }
  }

  async function gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data!;
  }

  afterAll(async () => {
    if (service) await stop(service, 'SIGKILL', 10_000).catch(() => undefined);
    // A SIGKILLed launcher leaves its (detached) PostgreSQL behind: stop it by its pid file.
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(execFileSync('head', ['-1', pidFile], { encoding: 'utf8' }).trim());
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          // already gone
        }
      }
      await sleep(1_000);
    }
    rmSync(work, { recursive: true, force: true });
    console.log(`runs-anywhere timings (s): ${JSON.stringify(timings)}`);
  });

  it('trains a run on embedded defaults and still has it after a restart', async () => {
    let t = Date.now();
    const lap = (name: string) => {
      timings[name] = Math.round((Date.now() - t) / 100) / 10;
      t = Date.now();
    };
    execFileSync('git', ['clone', '--quiet', ROOT, repo], { stdio: 'pipe' });
    lap('clone');
    installDependencies(repo);
    lap('dependencies');

    port = await freePort();
    service = start();
    const banner = await firstLine(service);
    await waitForHealth(service);
    lap('firstStart');
    // HOST defaults to this machine only; a machine without a GPU says so rather than naming wasm as a choice.
    expect(banner).toMatch(new RegExp(`listening on http://127\\.0\\.0\\.1:${port} `));
    expect(banner).toMatch(/database: embedded PostgreSQL .*new cluster/);
    expect(banner).toMatch(/queue: pg-boss/);
    expect(banner).toMatch(/(training backend: \S+|no GPU found, training on \S+)$/);
    expect(banner).not.toMatch(/unknown \(worker not ready/);

    // 60 rows, two numeric features and a string label
    const rows = ['x1,x2,label'];
    for (let i = 0; i < 60; i++) {
      const x1 = Math.sin(i * 1.7) * 3;
      const x2 = Math.cos(i * 0.9) * 2;
      rows.push(`${x1.toFixed(3)},${x2.toFixed(3)},${x1 + x2 > 0 ? 'up' : 'down'}`);
    }
    const form = new FormData();
    form.append('name', 'anywhere');
    form.append('file', new Blob([`${rows.join('\n')}\n`]), 'anywhere.csv');
    const uploaded = await fetch(`http://127.0.0.1:${port}/v1/datasets`, { method: 'POST', body: form });
    expect(uploaded.status).toBe(201);
    const dataset = (await uploaded.json()) as { id: string; rowCount?: number };

    const { createModel } = await gql(`mutation($input: CreateModelInput!) { createModel(input: $input) { id } }`, {
      input: {
        name: 'tiny',
        spec: {
          layers: [
            { type: 'dense', units: 8, activation: 'relu' },
            { type: 'dense', units: 2, activation: 'softmax' },
          ],
          loss: 'sparseCategoricalCrossentropy',
          optimizer: { type: 'adam', learningRate: 0.01 },
          metrics: ['accuracy'],
        },
      },
    });
    const { startRun } = await gql(`mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`, {
      input: {
        datasetId: dataset.id,
        modelId: createModel.id,
        training: { target: 'label', epochs: 3, batchSize: 16, seed: 1 },
      },
    });
    const runQuery = `query($id: ID!) { run(id: $id) { id status error epochsCompleted device } }`;
    let run: Record<string, any>;
    const deadline = Date.now() + 180_000;
    for (;;) {
      run = (await gql(runQuery, { id: startRun.id })).run;
      if (run.status === 'SUCCEEDED' || run.status === 'FAILED') break;
      if (Date.now() > deadline) throw new Error(`run still ${run.status}:\n${service.output.join('')}`);
      await sleep(250);
    }
    lap('train');
    expect(run.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.epochsCompleted).toBe(3);

    await stop(service, 'SIGTERM');
    expect(service.child.exitCode ?? service.child.signalCode).not.toBeNull();
    lap('stop');

    service = start();
    const again = await firstLine(service);
    await waitForHealth(service);
    lap('secondStart');
    expect(again).toMatch(/database: embedded PostgreSQL .*\(cluster in /);
    const found = (await gql(runQuery, { id: startRun.id })).run;
    expect(found).toMatchObject({ id: startRun.id, status: 'SUCCEEDED', epochsCompleted: 3 });

    await stop(service, 'SIGTERM');
    service = undefined;
    lap('stopAgain');
  }, 900_000);
});
