import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

import pg from 'pg';

import { freePort } from '#libs/core/db';

import { databaseUrl, dropDatabase } from './postgres.js';

export { freePort };

// The repository root, whether this runs from test/support (vitest) or dist/test/support (a built bench).
const HERE = resolve(import.meta.dirname, '..', '..');
const ROOT = basename(HERE) === 'dist' ? dirname(HERE) : HERE;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

interface ProcessHandle {
  child: ChildProcess;
  output: string[];
}

function launch(script: string, env: NodeJS.ProcessEnv): ProcessHandle {
  const child = spawn(process.execPath, [join(ROOT, 'dist', script)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output };
}

/** Whether the process has ended within `ms`, by itself or by a signal (its exitCode is then null). */
function exitsWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const exited = () => {
      clearTimeout(timer);
      resolveExit(true);
    };
    const timer = setTimeout(() => {
      child.off('exit', exited);
      resolveExit(false);
    }, ms);
    child.once('exit', exited);
  });
}

/** The exit code, or null when the process was ended by a signal or is still running after `ms`. */
async function waitForExit(child: ChildProcess, ms: number): Promise<number | null> {
  await exitsWithin(child, ms);
  return child.exitCode;
}

/**
 * A whole service for one test file: its own PostgreSQL database, Redis key prefix and data
 * folder, with the built API and worker as real processes (as `npm start` runs them).
 */
export class TestStack {
  readonly name = `tas_test_${randomBytes(4).toString('hex')}`;
  readonly databaseUrl: string;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'tas-data-'));
  port = 0;
  api: ProcessHandle | undefined;
  workers: ProcessHandle[] = [];
  private readonly extraEnv: NodeJS.ProcessEnv;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    this.databaseUrl = databaseUrl(this.name);
    this.extraEnv = extraEnv;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL,
      DATA_DIR: this.dataDir,
      PORT: String(this.port),
      QUEUE_NAME: 'training',
      QUEUE_PREFIX: this.name,
      TRAINING_BACKEND: 'wasm',
      WORKER_HEARTBEAT_INTERVAL: '500',
      ...this.extraEnv,
    };
  }

  async start(options: { workers?: number } = {}): Promise<this> {
    this.port ||= await freePort();
    await this.startApi();
    for (let i = 0; i < (options.workers ?? 1); i++) await this.startWorker();
    return this;
  }

  async startApi(): Promise<void> {
    this.api = launch('apps/api/src/main.js', this.env());
    await this.waitForHealth();
  }

  async startWorker(env: NodeJS.ProcessEnv = {}): Promise<ProcessHandle> {
    const worker = launch('apps/worker/src/main.js', { ...this.env(), ...env });
    this.workers.push(worker);
    const deadline = Date.now() + 60_000;
    while (!worker.output.join('').includes('worker ready')) {
      if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output.join('')}`);
      if (Date.now() > deadline) throw new Error(`worker did not start:\n${worker.output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return worker;
  }

  /**
   * Stops the API and returns once its process is gone, so that an API started next is the only one on the port
   * (an old one still shutting down would hold it, or answer the new one's health check). One that outlives
   * `signal` by 15 s is killed.
   */
  async stopApi(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.api) return;
    const { child, output } = this.api;
    child.kill(signal);
    if (!(await exitsWithin(child, 15_000))) {
      child.kill('SIGKILL');
      if (!(await exitsWithin(child, 10_000))) throw new Error(`the API did not exit on SIGKILL:\n${output.join('')}`);
    }
    this.api = undefined;
  }

  async stopWorker(worker: ProcessHandle, signal: NodeJS.Signals = 'SIGTERM', ms = 15_000): Promise<number | null> {
    worker.child.kill(signal);
    const code = await waitForExit(worker.child, ms);
    this.workers = this.workers.filter((w) => w !== worker);
    return code;
  }

  async waitForHealth(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const response = await fetch(`${this.url}/health`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      if (this.api?.child.exitCode !== null && this.api?.child.exitCode !== undefined)
        throw new Error(`API exited:\n${this.api.output.join('')}`);
      if (Date.now() > deadline) throw new Error(`API not healthy in time:\n${this.api?.output.join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  logs(): string {
    return [
      `--- api`,
      ...(this.api?.output ?? []),
      ...this.workers.flatMap((w, i) => [`--- worker ${i}`, ...w.output]),
    ].join('');
  }

  async gql<T = Record<string, any>>(
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<T>;
  }

  /** Runs a query that must succeed and returns its data. */
  async gqlOk<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const result = await this.gql<T>(query, variables);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data!;
  }

  async upload(
    content: string | Buffer,
    fileName: string,
    fields: Record<string, string> = {},
    headers: Record<string, string> = {},
  ) {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    form.append('file', new Blob([content as BlobPart]), fileName);
    const response = await fetch(`${this.url}/v1/datasets`, { method: 'POST', body: form, headers });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Row counts of every table, to show that a refused request wrote nothing. */
  async counts(): Promise<Record<string, number>> {
    const tables = ['datasets', 'model_definitions', 'runs', 'sweeps', 'metric_points', 'checkpoints'];
    const result: Record<string, number> = {};
    for (const table of tables)
      result[table] = Number((await this.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0].n);
    return result;
  }

  async waitForRun(id: string, statuses: string[], timeoutMs = 120_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { run } = await this.gqlOk(
        `query($id: ID!) { run(id: $id) { id status error epochsCompleted attempt summary device } }`,
        { id },
      );
      if (statuses.includes(run.status)) return run;
      if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status} after ${timeoutMs} ms\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop(): Promise<void> {
    for (const worker of [...this.workers]) await this.stopWorker(worker, 'SIGKILL', 5_000);
    await this.stopApi('SIGKILL');
    await dropDatabase(this.name).catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
