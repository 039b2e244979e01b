import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { webgpuAdapterPresent } from '#libs/pure/training';

import { freePort } from './support/stack.js';

/**
 * The README's walkthrough, run as a newcomer would paste it: its `sh walkthrough=<step>` blocks, in order, in one
 * bash session, against `npm start`'s launcher on embedded defaults (only PORT and DATA_DIR set). Each step's
 * output is checked, so the walkthrough cannot rot.
 */
const ROOT = resolve(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BLOCKS = [...README.matchAll(/```sh walkthrough=([\w-]+)\n([\s\S]*?)```/g)].map(([, step, code]) => ({
  step,
  code,
}));

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const lines = (text: string) => text.trim().split('\n');

/** What each step must print. A block without an entry here (or an entry without a block) fails the test. */
const EXPECTED: Record<string, (output: string) => void> = {
  helpers: (output) => expect(JSON.parse(output)).toEqual({ data: { apiVersion: 2 } }),
  upload: (output) => {
    const dataset = JSON.parse(lines(output)[0]);
    expect(dataset).toMatchObject({ name: 'iris', format: 'csv', status: 'READY', rowCount: 150 });
    expect(dataset.columns.map((column: { name: string }) => column.name)).toEqual([
      'Sepal Length (cm)',
      'Sepal Width (cm)',
      'Petal Length (cm)',
      'Petal Width (cm)',
      'Species',
    ]);
    expect(dataset.columns[4]).toMatchObject({ type: 'STRING', distinct: 3 });
  },
  model: (output) => expect(output.trim()).toMatch(new RegExp(`^model ${UUID}$`)),
  run: (output) => expect(output.trim()).toMatch(new RegExp(`^run ${UUID}$`)),
  follow: (output) => {
    const [status, summary] = lines(output);
    expect(status).toBe('SUCCEEDED');
    expect(JSON.parse(summary).val_accuracy).toBeGreaterThanOrEqual(0.9);
  },
  predict: (output) => {
    const predictions = JSON.parse(output).data.predict as { prediction: string }[];
    expect(predictions.map((p) => p.prediction)).toEqual(['setosa', 'virginica']);
  },
  tfjs: (output) => expect(lines(output).at(-1)).toBe('virginica'),
  'images-upload': (output) => {
    const dataset = JSON.parse(lines(output).at(-1)!);
    expect(dataset).toMatchObject({ format: 'images', status: 'READY', rowCount: 1000 });
    expect(dataset.columns.map((column: { name: string; type: string }) => `${column.name}:${column.type}`)).toEqual([
      'image:IMAGE',
      'label:STRING',
    ]);
    expect(dataset.columns[1].distinct).toBe(10);
    expect(dataset.warnings).toEqual([expect.stringMatching(/^digits\/README\.txt: skipped, not an image/)]);
  },
  'images-train': (output) => {
    const [status, summary] = lines(output);
    expect(status).toBe('SUCCEEDED');
    expect(JSON.parse(summary).val_accuracy).toBeGreaterThanOrEqual(0.85);
  },
  'images-predict': (output) => expect(output.trim()).toBe('7'),
  'text-upload': (output) => {
    const columns = JSON.parse(lines(output).at(-1)!) as { name: string; type: string; distinct: number }[];
    expect(columns.map((column) => `${column.name}:${column.type}`)).toEqual(['email:TEXT', 'label:STRING']);
    expect(columns[1].distinct).toBe(2);
  },
  'text-train': (output) => {
    const [status, summary] = lines(output);
    expect(status).toBe('SUCCEEDED');
    expect(JSON.parse(summary).val_accuracy).toBeGreaterThanOrEqual(0.9);
  },
  'text-predict': (output) => {
    const predictions = JSON.parse(output).data.predict as { prediction: string }[];
    expect(predictions.map((p) => p.prediction)).toEqual(['spam', 'ham']);
  },
};

describe('the README walkthrough, pasted into bash against npm start on embedded defaults', () => {
  const work = mkdtempSync(join(tmpdir(), 'tas-walkthrough-'));
  // As root the embedded PostgreSQL runs as an unprivileged user, which must reach DATA_DIR.
  chmodSync(work, 0o755);
  let port = 0;
  let service: ChildProcess | undefined;
  const output: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    service = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), DATA_DIR: join(work, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    service.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const deadline = Date.now() + 120_000;
    while (!output.join('').includes('trainer listening on')) {
      if (service.exitCode !== null) throw new Error(`npm start's launcher exited:\n${output.join('')}`);
      if (Date.now() > deadline) throw new Error(`the service did not start in time:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 150_000);

  afterAll(async () => {
    if (service && service.exitCode === null) service.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('has a check for every walkthrough block, and a block for every check', () => {
    expect(BLOCKS.map((block) => block.step)).toEqual(Object.keys(EXPECTED));
  });

  it(
    'prints one first line saying where it listens (this ' + 'machine only) and, without a GPU, that it trains on wasm',
    async () => {
      const first = output.join('').split('\n')[0];
      expect(first).toMatch(new RegExp(`^trainer listening on http://127\\.0\\.0\\.1:${port} .*this machine only`));
      if (!(await webgpuAdapterPresent())) {
        expect(first).toContain('no GPU found, training on wasm');
        // Dawn's Vulkan diagnostics stay out of a machine without a GPU.
        expect(output.join('')).not.toMatch(/Vulkan|XDG_RUNTIME_DIR/);
      }
    },
  );

  it('runs every block in order, each printing what the README says', async () => {
    const marker = (step: string) => `@@walkthrough step ${step}@@`;
    const script = ['set -euo pipefail', ...BLOCKS.flatMap(({ step, code }) => [`echo '${marker(step)}'`, code])].join(
      '\n',
    );
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((done) => {
      const child = execFile(
        'bash',
        ['-c', script],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, API: `http://localhost:${port}` },
          timeout: 420_000,
          maxBuffer: 16 * 1024 * 1024,
        },
        (error, out, err) =>
          done({ stdout: out, stderr: err, code: error ? Number((error as { code?: number }).code ?? 1) : 0 }),
      );
      child.stdin?.end();
    });
    expect(code, `the walkthrough failed:\n${stdout}\n${stderr}\n--- service\n${output.join('')}`).toBe(0);
    const parts = stdout.split(/@@walkthrough step ([\w-]+)@@\n/).slice(1);
    for (let i = 0; i < parts.length; i += 2) {
      const [step, printed] = [parts[i], parts[i + 1]];
      try {
        EXPECTED[step](printed);
      } catch (error) {
        throw new Error(`step "${step}" printed:\n${printed}\n${(error as Error).message}`, { cause: error });
      }
    }
    expect(parts.length / 2).toBe(BLOCKS.length);
  }, 480_000);

  it('stops on Ctrl-C (SIGINT), as the README says, within 30 s', async () => {
    const exited = new Promise<number | null>((done) => service!.once('exit', (code) => done(code)));
    service!.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(code).toBe(0);
  }, 40_000);
});
