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
 * end, split into its phases (claim, the epochs with their pruning checks, finish, advance), and what
 * TPE's suggestion alone costs (the pure function on the sweep's trials) at trial 100 and at the end.
 * The peer, when Debian's python3-optuna, -sqlalchemy and -psycopg2 are there: Optuna's TPE +
 * MedianPruner with RDBStorage on the same PostgreSQL, the same objective, the same epochs
 * (bench/optuna_sweep_peer.py; BENCH_SWEEP_PEER=0 leaves it out). Writes bench/results/sweep.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

import pg from 'pg';

import type { PrismaService } from '#libs/core/db';
import type { TrainRunJob } from '#libs/core/queue';
import { trialRecord, trialRows } from '#libs/domain/sweeps';
import { rngFor } from '#libs/pure/random';
import { type SearchSpace, suggestOptions, tpeDraws, tpeWindow, tpeWindowOf } from '#libs/pure/search';
import type { TrainingConfig } from '#libs/pure/training';

import { irisCsv } from '../test/support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP } from '../test/support/graphql.js';
import { TestStack } from '../test/support/stack.js';
import { benchSweepInput, CREATE_SWEEP, inProcessServices } from './sweep-support.js';

const TRIALS = Number(process.env.BENCH_SWEEP_TRIALS ?? 5_000);
/** BENCH_SWEEP_PEER=0 leaves Optuna out (quicker iterations; recorded figures keep it beside ours). */
const PEER = process.env.BENCH_SWEEP_PEER !== '0';
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

const PHASES = ['claim', 'epochs', 'finish', 'advance'] as const;
type Phase = (typeof PHASES)[number];

/** One trial as the bench saw it: its sweep and index, when it started, its phases (ms), the process's CPU ms. */
interface TrialTiming {
  sweep: 'old' | 'young';
  index: number;
  start: number;
  phases: Record<Phase, number>;
  totalMs: number;
  cpuMs: number;
}

const ms = (value: number) => Number(value.toFixed(2));

/** Medians over some trials: the whole trial (wall and CPU) and each phase. */
function medians(trials: TrialTiming[]): Record<string, number> {
  const out: Record<string, number> = {
    trials: trials.length,
    totalMs: ms(median(trials.map((trial) => trial.totalMs))),
    cpuMs: ms(median(trials.map((trial) => trial.cpuMs))),
  };
  for (const phase of PHASES) out[`${phase}Ms`] = ms(median(trials.map((trial) => trial.phases[phase])));
  return out;
}

/**
 * Trials of the probe: once the sweep has TRIALS trials, a second ("young") sweep of the same kind starts and the
 * two alternate on the one consumer, so that the old sweep's trials TRIALS.. and the young one's trials 1..PROBE
 * run in the same minutes on the same loaded machine: their ratio does not move with the load the way two
 * windows minutes apart do.
 */
const PROBE = 150;

async function ours(stack: TestStack): Promise<Record<string, unknown>> {
  const { body: dataset } = await stack.upload(irisCsv(), 'iris.csv', { name: 'iris' });
  const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'iris-mlp', spec: IRIS_MLP } });
  const { prisma, queue, runs, scheduler } = await inProcessServices(stack);

  const createSweep = async (name: string, maxTrials: number): Promise<string> => {
    const { createSweep: sweep } = await stack.gqlOk(CREATE_SWEEP, {
      input: benchSweepInput({
        name,
        datasetId: dataset.id,
        modelId: createModel.id,
        maxTrials,
        epochs: EPOCHS,
        seed: SEED,
      }),
    });
    return sweep.id;
  };

  const timings: TrialTiming[] = [];
  let oldSweepId = '';
  let pruned = 0;
  let oldTrials = 0;
  let youngTrials = 0;
  let reachedTrials: () => void;
  const reached = new Promise<void>((resolveReached) => (reachedTrials = resolveReached));
  let done: () => void;
  const finished = new Promise<void>((resolveDone) => (done = resolveDone));
  let failure: Error | undefined;
  // The worker's path for one trial, minus the training (see training.processor.ts).
  const handle = async (job: TrainRunJob) => {
    try {
      const began = performance.now();
      const cpu = process.cpuUsage();
      const run = await runs.claim(job.runId, job.attempt, 'bench-worker', 'synthetic');
      if (!run) return; // a trial the probe's end cancelled
      const claimed = performance.now();
      const params = run.hyperparameters as { lr: number; hidden: number };
      const rng = rngFor(SEED, run.trialIndex ?? 0, 1);
      let status: 'succeed' | 'prune' = 'succeed';
      for (let epoch = 1; epoch <= EPOCHS; epoch++) {
        const valLoss = syntheticValLoss(params, epoch, rng());
        const metrics = { loss: valLoss * 0.9, val_loss: valLoss, lr: params.lr };
        const training = run.training as unknown as TrainingConfig;
        await runs.recordEpoch({ runId: run.id, workerId: 'bench-worker', epoch, metrics, training });
        if (await scheduler.shouldPruneTrial(run.id, run.sweepId!, epoch)) {
          status = 'prune';
          break;
        }
      }
      const trained = performance.now();
      await runs.finish(run.id, 'bench-worker', status);
      const finishedAt = performance.now();
      await scheduler.advance(run.sweepId!);
      const advanced = performance.now();
      const used = process.cpuUsage(cpu);
      const old = run.sweepId === oldSweepId;
      timings.push({
        sweep: old ? 'old' : 'young',
        index: run.trialIndex!,
        start: began,
        phases: {
          claim: claimed - began,
          epochs: trained - claimed,
          finish: finishedAt - trained,
          advance: advanced - finishedAt,
        },
        totalMs: advanced - began,
        cpuMs: (used.user + used.system) / 1000,
      });
      if (old && ++oldTrials <= TRIALS) {
        if (status === 'prune') pruned++;
        if (oldTrials % 500 === 0) log(`${oldTrials} trials, ${pruned} pruned`);
        if (oldTrials === TRIALS) reachedTrials();
      }
      if (!old && ++youngTrials === PROBE) done();
    } catch (error) {
      failure = error as Error;
      reachedTrials();
      done();
    }
  };
  await queue.consume(handle, 1);

  log(`ours: a TPE sweep of ${TRIALS} trials, ${EPOCHS} epochs each, median pruning`);
  const began = performance.now();
  // Room for the probe's trials beyond TRIALS (the default startup trials are 10 either way).
  oldSweepId = await createSweep('bench', TRIALS + 2 * PROBE);
  await reached;
  const seconds = (performance.now() - began) / 1000;
  if (!failure) {
    log(`probe: a young sweep alternating with the old one for ${PROBE} trials`);
    await createSweep('young', PROBE);
    await finished;
  }
  await scheduler.cancel(oldSweepId);
  await queue.stopConsuming();
  if (failure) throw failure;
  const [{ best }] = await prisma.$queryRaw<{ best: number }[]>`
    SELECT min((summary ->> 'val_loss')::float8) AS best FROM runs
    WHERE sweep_id = ${oldSweepId}::uuid AND status = 'SUCCEEDED' AND trial_index < ${TRIALS}`;
  const tpeMs = await tpeSuggestionMs(prisma, oldSweepId, [100, TRIALS - 1]);
  await queue.close();
  await prisma.onModuleDestroy();
  const life = timings.filter((trial) => trial.sweep === 'old' && trial.index < TRIALS);
  const starts = life.map((trial) => trial.start);
  const atStart = perTrialMsAround(starts, 100);
  const atEnd = perTrialMsAround(starts, starts.length - 50);
  const young = medians(timings.filter((trial) => trial.sweep === 'young' && trial.index >= 50 && trial.index < 150));
  const old = medians(timings.filter((trial) => trial.sweep === 'old' && trial.index >= TRIALS));
  return {
    trials: life.length,
    pruned,
    seconds: Number(seconds.toFixed(1)),
    trialsPerSecond: Number((life.length / seconds).toFixed(2)),
    perTrialMsNearTrial100: atStart,
    perTrialMsAtEnd: atEnd,
    endOverStart: Number((atEnd / atStart).toFixed(2)),
    // the same minutes: the young sweep's trials 51-150 beside the old sweep's trials from TRIALS on
    probe: {
      youngNearTrial100: young,
      oldAtTrials: old,
      oldOverYoung: Number((old.totalMs / young.totalMs).toFixed(2)),
      oldOverYoungCpu: Number((old.cpuMs / young.cpuMs).toFixed(2)),
    },
    tpeSuggestionMs: tpeMs,
    bestValLoss: best,
    windows: windows(starts),
  };
}

/**
 * What TPE's suggestion alone costs (the pure function, no database) for trial n of this sweep given trials
 * 0..n−1 as they ended, on what the scheduler gives it: the window of those trials its stored options depend on
 * (tpeWindowOf: with `aboveKernels`, at most 25 + 26 + aboveKernels + 25 trials), or all of them for a sweep without
 * the cap. The first candidate, as the scheduler draws it (the trial store says whether it is taken). Median of 5;
 * every n is run once before any is timed, so that the first one timed does not pay for the JIT's warm-up.
 */
async function tpeSuggestionMs(prisma: PrismaService, sweepId: string, at: number[]): Promise<Record<string, number>> {
  const sweep = await prisma.sweep.findUniqueOrThrow({ where: { id: sweepId } });
  const space = sweep.searchSpace as unknown as SearchSpace;
  const all = (await trialRows(prisma, sweepId)).map((row) => trialRecord(row, space));
  const out: Record<string, number> = {};
  const options = suggestOptions(sweep.strategy, sweep.options);
  const window = tpeWindow(options.tpe, sweep.maxTrials);
  const contexts = at.map((n) => ({
    n,
    context: {
      space,
      goal: sweep.goal,
      seed: sweep.seed,
      trialIndex: n,
      maxTrials: sweep.maxTrials,
      ...options,
      ...(window ? tpeWindowOf(all.slice(0, n), n, sweep.goal, window) : { history: all.slice(0, n) }),
    },
  }));
  for (let round = 0; round < 3; round++) for (const { context } of contexts) tpeDraws(context).next();
  for (const { n, context } of contexts) {
    const times: number[] = [];
    for (let round = 0; round < 5; round++) {
      const began = performance.now();
      tpeDraws(context).next();
      times.push(performance.now() - began);
    }
    out[`trial${n}`] = Number(median(times).toFixed(2));
  }
  return out;
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
  return {
    ...rest,
    perTrialMsNearTrial100: atStart,
    perTrialMsAtEnd: atEnd,
    endOverStart: Number((atEnd / atStart).toFixed(2)),
    windows: windows(starts),
  };
}

async function main(): Promise<void> {
  const stack = new TestStack();
  const peerDb = new TestStack();
  try {
    await stack.start({ workers: 0 });
    // Optuna gets its own empty database on the same server, and runs while ours does.
    const admin = new pg.Client({
      connectionString: process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${peerDb.name}"`);
    await admin.end();
    const loadAtStart = loadavg();
    const peerRun = PEER ? optuna(peerDb) : Promise.resolve(null);
    const service = await ours(stack);
    log(`ours: ${JSON.stringify({ ...service, windows: undefined })}`);
    const out = resolve(import.meta.dirname, '..', '..', 'bench', 'results', 'sweep.json');
    mkdirSync(dirname(out), { recursive: true });
    const write = (peer: Record<string, unknown> | null | 'running') =>
      writeFileSync(out, `${JSON.stringify({ ...result, optuna: peer }, null, 2)}\n`);
    const result = {
      date: new Date().toISOString(),
      machine: 'this VM (2 cores shared); PostgreSQL 15 and Redis on 127.0.0.1',
      // 1, 5 and 15 minute load averages: other work on the same two cores moves every figure
      loadAverageAtStart: loadAtStart.map((load) => Number(load.toFixed(2))),
      loadAverageAtEndOfOurs: loadavg().map((load) => Number(load.toFixed(2))),
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

// Exits when done: something the in-process services opened (not tracked down yet) keeps the event loop alive
// after every owner above has been closed, and a bench that never returns is worse than one that exits.
main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
