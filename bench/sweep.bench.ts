/**
 * Sweeps of 5,000 trials: the service's per-trial bookkeeping over a sweep's life, beside Optuna.
 *
 *   npm run bench:sweep      (build, then node dist/bench/sweep.bench.js; BENCH_SWEEP_TRIALS, default 5000)
 *
 * A TPE sweep with median pruning is created through the API (real PostgreSQL and Redis, fresh
 * database). The training itself is replaced by a synthetic objective, so what is timed is the
 * overhead a real trial pays around its training: the job leaves the queue (BullMQ), the trial is
 * claimed, EPOCHS epochs of metrics are persisted through the worker's repository, each followed by the
 * sweep's pruning check, the run is finished, and the scheduler asks TPE for the next trial (one at a
 * time: parallelism 1). All of it is the worker's and scheduler's own code, called in-process. Optuna
 * runs at the same time, as a child process, so both see the same machine at the same moment.
 * Reports trials/s per window of 100 trials and the median per-trial time near trial 100 and at the
 * end. The peer, when Debian's python3-optuna, -sqlalchemy and -psycopg2 are there: Optuna's TPE +
 * MedianPruner with RDBStorage on the same PostgreSQL, the same objective, the same epochs
 * (bench/optuna_sweep_peer.py). Writes bench/results/sweep.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { loadConfig } from '#libs/core/config';
import { PrismaService, RunEventsRepository } from '#libs/core/db';
import { openJobQueue, type TrainRunJob } from '#libs/core/queue';
import { rngFor } from '#libs/pure/random';
import { RunLifecycle, RunLifecycleRepository } from '#libs/domain/runs';
import { SweepScheduler } from '#libs/domain/sweeps';
import type { TrainingConfig } from '#libs/pure/training';
import { irisCsv } from '../test/support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP } from '../test/support/graphql.js';
import { TestStack } from '../test/support/stack.js';

const TRIALS = Number(process.env.BENCH_SWEEP_TRIALS ?? 5_000);
const EPOCHS = 5;
const WINDOW = 100;
const SEED = 11;

const log = (message: string) => console.log(`[bench:sweep ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** The synthetic objective: a bowl in (log lr, hidden) that a trial approaches over its epochs, plus noise. */
export function syntheticValLoss(params: { lr: number; hidden: number }, epoch: number, noise: number): number {
  const bowl = (Math.log10(params.lr) + 2) ** 2 + ((params.hidden - 24) / 16) ** 2;
  return 0.1 + bowl + 1 / epoch + 0.02 * noise;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function windows(starts: number[]): { trials: string; trialsPerSecond: number }[] {
  const out: { trials: string; trialsPerSecond: number }[] = [];
  for (let from = 0; from + WINDOW < starts.length; from += WINDOW) {
    const seconds = (starts[from + WINDOW] - starts[from]) / 1000;
    out.push({ trials: `${from + 1}-${from + WINDOW}`, trialsPerSecond: Number((WINDOW / seconds).toFixed(2)) });
  }
  return out;
}

/** Median per-trial ms over the trials around `at` (1-based), from consecutive start times. */
function perTrialMsAround(starts: number[], at: number): number {
  const deltas: number[] = [];
  for (let i = Math.max(1, at - 50); i < Math.min(starts.length, at + 50); i++) deltas.push(starts[i] - starts[i - 1]);
  return Number(median(deltas).toFixed(2));
}

async function ours(stack: TestStack): Promise<Record<string, unknown>> {
  const { body: dataset } = await stack.upload(irisCsv(), 'iris.csv', { name: 'iris' });
  const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'iris-mlp', spec: IRIS_MLP } });
  const config = loadConfig({ ...process.env, ...stack.env(), DATABASE_URL: stack.databaseUrl });
  const prisma = new PrismaService(config);
  const events = new RunEventsRepository(prisma, config);
  const queue = await openJobQueue(config);
  const runs = new RunLifecycle(new RunLifecycleRepository(prisma), events);
  const scheduler = new SweepScheduler(prisma, events, queue, config, runs);

  const starts: number[] = [];
  let pruned = 0;
  let done: () => void;
  const finished = new Promise<void>((resolveDone) => (done = resolveDone));
  let failure: Error | undefined;
  // The worker's path for one trial, minus the training (see training.processor.ts).
  const handle = async (job: TrainRunJob) => {
    try {
      starts.push(performance.now());
      const run = await runs.claim(job.runId, job.attempt, 'bench-worker', 'synthetic');
      if (!run) throw new Error(`trial ${job.runId} could not be claimed`);
      const params = run.hyperparameters as { lr: number; hidden: number };
      const rng = rngFor(SEED, run.trialIndex ?? 0, 1);
      let outcome: 'succeed' | 'prune' = 'succeed';
      for (let epoch = 1; epoch <= EPOCHS; epoch++) {
        const valLoss = syntheticValLoss(params, epoch, rng());
        const metrics = { loss: valLoss * 0.9, val_loss: valLoss, lr: params.lr };
        await runs.recordEpoch({ runId: run.id, workerId: 'bench-worker', epoch, metrics, training: run.training as unknown as TrainingConfig });
        if (await scheduler.shouldPruneTrial(run.id, run.sweepId!, epoch)) {
          outcome = 'prune';
          pruned++;
          break;
        }
      }
      await runs.finish(run.id, 'bench-worker', outcome);
      await scheduler.advance(run.sweepId!);
      if (starts.length % 500 === 0) log(`${starts.length} trials, ${pruned} pruned`);
      if (starts.length >= TRIALS) done();
    } catch (error) {
      failure = error as Error;
      done();
    }
  };
  await queue.consume(handle, 1);

  log(`ours: a TPE sweep of ${TRIALS} trials, ${EPOCHS} epochs each, median pruning`);
  const began = performance.now();
  const { createSweep } = await stack.gqlOk(`mutation($input: CreateSweepInput!) { createSweep(input: $input) { id } }`, {
    input: {
      name: 'bench',
      datasetId: dataset.id,
      modelId: createModel.id,
      strategy: 'TPE',
      searchSpace: { hidden: { type: 'int', min: 8, max: 64, step: 8 }, lr: { type: 'loguniform', min: 0.0001, max: 0.1 } },
      objective: { metric: 'val_loss', goal: 'MINIMIZE' },
      maxTrials: TRIALS,
      parallelism: 1,
      earlyStopping: { rule: 'median', minTrials: 5, warmupEpochs: 1 },
      training: { target: 'Species', epochs: EPOCHS, batchSize: 16, seed: 3 },
      seed: SEED,
    },
  });
  await finished;
  const seconds = (performance.now() - began) / 1000;
  await queue.stopConsuming();
  if (failure) throw failure;
  const [{ best }] = await prisma.$queryRaw<{ best: number }[]>`
    SELECT min((summary ->> 'val_loss')::float8) AS best FROM runs WHERE sweep_id = ${createSweep.id}::uuid AND status = 'SUCCEEDED'`;
  await queue.close();
  await prisma.$disconnect();
  const atStart = perTrialMsAround(starts, 100);
  const atEnd = perTrialMsAround(starts, starts.length - 50);
  return {
    trials: starts.length,
    pruned,
    seconds: Number(seconds.toFixed(1)),
    trialsPerSecond: Number((starts.length / seconds).toFixed(2)),
    perTrialMsNearTrial100: atStart,
    perTrialMsAtEnd: atEnd,
    endOverStart: Number((atEnd / atStart).toFixed(2)),
    bestValLoss: best,
    windows: windows(starts),
  };
}

/** Runs the Optuna peer as a child process, at the same time as ours: both see the same machine. */
async function optuna(stack: TestStack): Promise<Record<string, unknown> | null> {
  const peer = resolve(import.meta.dirname, '..', '..', 'bench', 'optuna_sweep_peer.py');
  const url = new URL(stack.databaseUrl);
  url.protocol = 'postgresql+psycopg2:';
  log(`optuna: TPESampler + MedianPruner, RDBStorage on PostgreSQL, ${TRIALS} trials`);
  const child = spawn('/usr/bin/python3', [peer, url.toString(), String(TRIALS), String(EPOCHS), String(SEED)]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const line of chunk.toString().trim().split('\n')) if (line.startsWith('optuna:')) log(line);
  });
  const status = await new Promise<number | null>((resolveExit) => {
    child.on('exit', (code) => resolveExit(code));
    child.on('error', () => resolveExit(null));
  });
  if (status !== 0) {
    log(`optuna peer unavailable: ${stderr.trim().split('\n').at(-1)}`);
    return null;
  }
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { starts: number[] } & Record<string, unknown>;
  const starts = result.starts.map((seconds) => seconds * 1000);
  const atStart = perTrialMsAround(starts, 100);
  const atEnd = perTrialMsAround(starts, starts.length - 50);
  const { starts: _starts, ...rest } = result;
  return { ...rest, perTrialMsNearTrial100: atStart, perTrialMsAtEnd: atEnd, endOverStart: Number((atEnd / atStart).toFixed(2)), windows: windows(starts) };
}

async function main(): Promise<void> {
  const stack = new TestStack();
  const peerDb = new TestStack();
  try {
    await stack.start({ workers: 0 });
    // Optuna gets its own empty database on the same server, and runs while ours does.
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${peerDb.name}"`);
    await admin.end();
    const peerRun = optuna(peerDb);
    const service = await ours(stack);
    log(`ours: ${JSON.stringify({ ...service, windows: undefined })}`);
    const out = resolve(import.meta.dirname, '..', '..', 'bench', 'results', 'sweep.json');
    mkdirSync(dirname(out), { recursive: true });
    const write = (peer: Record<string, unknown> | null | 'running') =>
      writeFileSync(out, `${JSON.stringify({ ...result, optuna: peer }, null, 2)}\n`);
    const result = {
      date: new Date().toISOString(),
      machine: 'this VM (2 cores shared); PostgreSQL 15 and Redis on 127.0.0.1',
      trials: TRIALS,
      epochsPerTrial: EPOCHS,
      goal: 'per-trial time at the end within 2x of trial 100 (endOverStart ≤ 2)',
      ours: service,
    };
    // Ours is on disk before the peer starts: Optuna's side may take much longer.
    write('running');
    const peer = await peerRun;
    if (peer) log(`optuna: ${JSON.stringify({ ...peer, windows: undefined })}`);
    write(peer);
    log(`wrote ${out}`);
  } finally {
    await stack.stop();
    await peerDb.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
