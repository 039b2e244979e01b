/**
 * The API at scale: 100,000 runs and 10,000,000 metric points.
 *
 *   npm run bench:api      (build, then node dist/bench/api.bench.js; about 5 minutes)
 *
 * Starts the built API and one worker on a fresh PostgreSQL database (as the e2e tests do), trains one
 * real iris run (predict needs a checkpoint), then:
 *   1. metric writes: an epoch of 50 metrics through the worker's repository while the table holds its
 *      first 1,000 points, and again once it holds 10,000,000; points/s of each;
 *   2. seeds 100,000 runs (5,000 of them trials of one sweep) and 10,000,000 metric points by straight SQL
 *      (generate_series): one run of 1,000,000 points, and 3 metrics × 30 epochs for every other run;
 *   3. times, one request at a time, runsPage (first and deep page) at 100,000 runs and a 1,000,000-point
 *      series downsampled to 1,000 points;
 *   4. drives a mixed GraphQL load with autocannon, 20 connections for 30 s: runs page, a run with its
 *      downsampled metrics, a sweep's page of trials, predict. Reports p50/p99, errors (HTTP and GraphQL)
 *      and the API's RSS sampled every second.
 * Writes bench/results/api.json. Settings: BENCH_API_RUNS, BENCH_API_POINTS, BENCH_API_SECONDS,
 * BENCH_API_CONNECTIONS shrink it for a quick look.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

import autocannon from 'autocannon';
import pg from 'pg';

import { loadConfig } from '#libs/core/config';
import { PrismaService, RunEventsRepository } from '#libs/core/db';
import { RunLifecycle, RunLifecycleRepository } from '#libs/domain/runs';
import type { TrainingConfig } from '#libs/pure/training';

import { irisCsv } from '../test/support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP, START_RUN } from '../test/support/graphql.js';
import { TestStack } from '../test/support/stack.js';

const RUNS = Number(process.env.BENCH_API_RUNS ?? 100_000);
const POINTS = Number(process.env.BENCH_API_POINTS ?? 10_000_000);
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_API_CONNECTIONS ?? 20);
/** VACUUM the seeded runs as autovacuum would (BENCH_API_VACUUM=0: as left by the bulk insert, never vacuumed). */
const VACUUM = process.env.BENCH_API_VACUUM !== '0';
/** Seconds of load for each request kind alone after the mixed load (0: skip): where the time goes. */
const PER_KIND_SECONDS = Number(process.env.BENCH_API_PER_KIND_SECONDS ?? 0);
/** A folder for the API process's V8 CPU profile (`--cpu-prof`), written when the API stops. */
const CPU_PROF_DIR = process.env.BENCH_API_CPU_PROF_DIR;
/** Where the results go; a quick look with the settings above can write elsewhere than the committed file. */
const OUT = process.env.BENCH_API_OUT;
const LONG_SERIES = Math.min(1_000_000, Math.floor(POINTS / 10));
const SWEEP_TRIALS = Math.min(5_000, RUNS / 2);
const METRICS_PER_EPOCH = 50;
const WRITE_EPOCHS = 20;

const log = (message: string) => console.log(`[bench:api ${new Date().toISOString().slice(11, 19)}] ${message}`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

/** Milliseconds of `count` sequential calls: median and max. */
async function timeSerial(count: number, call: () => Promise<void>): Promise<{ medianMs: number; maxMs: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  return { medianMs: Number(median(times).toFixed(2)), maxMs: Number(Math.max(...times).toFixed(2)) };
}

/**
 * Node 20 refuses `--cpu-prof` in NODE_OPTIONS (the only way into the stack's child processes), so a preload
 * starts the inspector's profiler and writes the profile on SIGTERM (how the stack stops the API).
 */
function cpuProfilePreload(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'preload.cjs');
  writeFileSync(
    file,
    `const { Session } = require('node:inspector'); const fs = require('node:fs');
const session = new Session(); session.connect();
session.post('Profiler.enable', () => session.post('Profiler.start'));
process.prependListener('SIGTERM', () => session.post('Profiler.stop', (error, result) => {
  if (!error)
    fs.writeFileSync(${JSON.stringify(dir)} + '/' + process.pid + '.cpuprofile', JSON.stringify(result.profile));
}));
`,
  );
  return file;
}

async function main(): Promise<void> {
  const stack = new TestStack(CPU_PROF_DIR ? { NODE_OPTIONS: `--require ${cpuProfilePreload(CPU_PROF_DIR)}` } : {});
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  try {
    log(`starting the API and a worker on database ${stack.name}`);
    await stack.start({ workers: 1 });
    await db.connect();
    const gqlOk = stack.gqlOk.bind(stack);

    log('training one iris run (predict needs a checkpoint)');
    const { body: dataset } = await stack.upload(irisCsv(), 'iris.csv', { name: 'iris' });
    const { createModel } = await gqlOk(CREATE_MODEL, { input: { name: 'iris-mlp', spec: IRIS_MLP } });
    const training = { target: 'Species', epochs: 20, batchSize: 16, validationSplit: 0.2, seed: 7 };
    const { startRun } = await gqlOk(START_RUN, {
      input: { datasetId: dataset.id, modelId: createModel.id, hyperparameters: { hidden: 16, lr: 0.02 }, training },
    });
    const trained = await stack.waitForRun(startRun.id, ['SUCCEEDED', 'FAILED'], 300_000);
    if (trained.status !== 'SUCCEEDED') throw new Error(`the iris run ${trained.status}: ${trained.error}`);
    for (const worker of [...stack.workers]) await stack.stopWorker(worker);

    // 1. Metric writes through RunLifecycle.recordEpoch (the worker's path), first on a near-empty table.
    const config = loadConfig({ ...process.env, DATABASE_URL: stack.databaseUrl });
    const prisma = new PrismaService(config);
    const lifecycle = new RunLifecycle(new RunLifecycleRepository(prisma), new RunEventsRepository(prisma, config));
    const [{ training: runTraining }] = (await db.query(`SELECT training FROM runs WHERE id = $1`, [startRun.id])).rows;
    const writeRate = async (label: string) => {
      const { rows } = await db.query(
        `INSERT INTO runs (id, status, dataset_id, model_id, hyperparameters, training, worker_id)
        VALUES (gen_random_uuid(), 'RUNNING', $1, $2, '{}', $3, 'bench') RETURNING id`,
        [dataset.id, createModel.id, runTraining],
      );
      const runId = rows[0].id as string;
      const names = Array.from({ length: METRICS_PER_EPOCH }, (_, i) => `metric_${String(i).padStart(2, '0')}`);
      const before = Number((await db.query(`SELECT count(*) AS n FROM metric_points`)).rows[0].n);
      const times: number[] = [];
      for (let epoch = 1; epoch <= WRITE_EPOCHS; epoch++) {
        const metrics = Object.fromEntries(names.map((name, i) => [name, Math.sin(epoch + i)]));
        const start = performance.now();
        const { stop } = await lifecycle.recordEpoch({
          runId,
          workerId: 'bench',
          epoch,
          metrics,
          training: runTraining as TrainingConfig,
        });
        times.push(performance.now() - start);
        if (stop) throw new Error('the bench run was taken from its worker');
      }
      const written = Number(
        (await db.query(`SELECT count(*) AS n FROM metric_points WHERE run_id = $1`, [runId])).rows[0].n,
      );
      if (written !== METRICS_PER_EPOCH * WRITE_EPOCHS)
        throw new Error(`wrote ${written} points, expected ${METRICS_PER_EPOCH * WRITE_EPOCHS}`);
      const epochMs = median(times);
      const result = {
        tableRowsBefore: before,
        epochs: WRITE_EPOCHS,
        metricsPerEpoch: METRICS_PER_EPOCH,
        medianEpochMs: Number(epochMs.toFixed(2)),
        pointsPerSecond: Math.round((METRICS_PER_EPOCH * 1000) / epochMs),
      };
      log(`metric writes ${label}: ${JSON.stringify(result)}`);
      return result;
    };
    const writesFirst = await writeRate('with the first 1,000 points');

    // 2. Seed by straight SQL.
    log(`seeding ${RUNS} runs (${SWEEP_TRIALS} trials of one sweep) and ${POINTS} metric points`);
    const seedStart = performance.now();
    await db.query(`SET synchronous_commit = off`);
    const {
      rows: [sweep],
    } = await db.query(
      `INSERT INTO sweeps (id, name, status, strategy, search_space, metric, goal,
        max_trials, parallelism, training, seed, dataset_id, model_id, created_at, finished_at)
      SELECT gen_random_uuid(), 'sweep ' || i, 'SUCCEEDED', 'TPE', '{"lr": {"type": "loguniform", '
        '"min": 0.0001, "max": 0.1}}',
        'val_loss', 'MINIMIZE', ${SWEEP_TRIALS}, 4, $3, 1, $1, $2, now() - i * interval '1 hour', now()
      FROM generate_series(0, 99) i ORDER BY i RETURNING id`,
      [dataset.id, createModel.id, runTraining],
    );
    await db.query(
      `INSERT INTO runs (id, status, dataset_id, model_id, sweep_id, trial_index, hyperparameters, training,
        epochs_completed, summary, created_at, started_at, finished_at)
      SELECT gen_random_uuid(),
        (ARRAY['SUCCEEDED','SUCCEEDED','SUCCEEDED','FAILED','PRUNED','CANCELLED']::"RunStatus"[])[1 + i % 6],
        $1, $2, CASE WHEN i < ${SWEEP_TRIALS} THEN $3::uuid END, CASE WHEN i < ${SWEEP_TRIALS} THEN i END,
        jsonb_build_object('hidden', 8 + i % 24, 'lr', 0.001 * (1 + i % 50)), $4, 30,
        jsonb_build_object('loss', random(), 'val_loss', random(), 'val_accuracy', random()),
        now() - i * interval '1 minute', now() - i * interval '1 minute',
        now() - i * interval '1 minute' + interval '20 s'
      FROM generate_series(0, ${RUNS - 2}) i`,
      [dataset.id, createModel.id, sweep.id, runTraining],
    );
    const {
      rows: [long],
    } = await db.query(
      `INSERT INTO runs (id, status, dataset_id, model_id, hyperparameters, training,
        epochs_completed, created_at)
      VALUES (gen_random_uuid(), 'SUCCEEDED', $1, $2, '{}', $3, ${LONG_SERIES}, now()) RETURNING id`,
      [dataset.id, createModel.id, runTraining],
    );
    await db.query(
      `INSERT INTO metric_points (run_id, name, step, epoch, value, timestamp)
      SELECT $1, 'loss', s, s, exp(-s / ${LONG_SERIES / 5}.0) + random() / 10, now()
      FROM generate_series(1, ${LONG_SERIES}) s`,
      [long.id],
    );
    const perRun = Math.max(1, Math.floor((POINTS - LONG_SERIES) / 3 / (RUNS - 1)));
    // In run-id order, so the (run_id, name, step) key is filled from left to right rather than at random.
    await db.query(`INSERT INTO metric_points (run_id, name, step, epoch, value, timestamp)
      SELECT r.id, m.name, e, e, random(), now()
      FROM (SELECT id FROM runs WHERE NOT EXISTS (SELECT 1 FROM metric_points p WHERE p.run_id = runs.id) ORDER BY id) r
      CROSS JOIN unnest(ARRAY['loss', 'val_loss', 'val_accuracy']) m(name)
      CROSS JOIN generate_series(1, ${perRun}) e`);
    // PostgreSQL here runs with autovacuum off; in service, autovacuum vacuums a table after bulk inserts (PG 13+:
    // autovacuum_vacuum_insert_threshold), which sets the visibility map that index-only counts rely on.
    if (VACUUM) await db.query(`VACUUM (ANALYZE) runs, sweeps`);
    await db.query(`ANALYZE`);
    const counts = (
      await db.query(
        `SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM metric_points)::int AS points`,
      )
    ).rows[0];
    const seedSeconds = Number(((performance.now() - seedStart) / 1000).toFixed(1));
    log(`seeded ${counts.runs} runs and ${counts.points} points in ${seedSeconds} s`);
    const writesAtScale = await writeRate(`with ${counts.points} points`);

    // 3. Single-request timings.
    const deepCursor = await (async () => {
      const { rows } = await db.query(
        `SELECT created_at, id FROM runs ORDER BY created_at DESC, id DESC OFFSET ${Math.floor(RUNS * 0.9)} LIMIT 1`,
      );
      return Buffer.from(`${(rows[0].created_at as Date).toISOString()}|${rows[0].id}`).toString('base64url');
    })();
    const RUNS_PAGE = `query($after: String) { runsPage(first: 50, after: $after) {
      totalCount nodes { id status createdAt summary } pageInfo { endCursor hasNextPage } } }`;
    await gqlOk(RUNS_PAGE, {});
    const runsPageFirst = await timeSerial(20, async () => void (await gqlOk(RUNS_PAGE, {})));
    const runsPageDeep = await timeSerial(20, async () => void (await gqlOk(RUNS_PAGE, { after: deepCursor })));
    const explain = await db.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM runs WHERE created_at <= $1 AND (created_at < $1 OR id < $2)
      ORDER BY created_at DESC, id DESC LIMIT 51`,
      (() => {
        const [iso, id] = Buffer.from(deepCursor, 'base64url').toString().split('|');
        return [new Date(iso), id];
      })(),
    );
    const deepPlan = explain.rows[0]['QUERY PLAN'][0];
    const SERIES =
      `query($id: ID!) { run(id: $id) { metrics(names: ["loss"], maxPoints: 1000) { name points { step value } } } ` +
      `}`;
    let seriesPoints = 0;
    const downsampled = await timeSerial(5, async () => {
      const { run } = await gqlOk(SERIES, { id: long.id });
      seriesPoints = run.metrics[0].points.length;
    });
    const plainRuns = await timeSerial(5, async () => void (await gqlOk(`{ runs { id status summary } }`)));
    const singles = {
      runsPageFirstPage: runsPageFirst,
      runsPageDeepPage: {
        ...runsPageDeep,
        atRow: Math.floor(RUNS * 0.9),
        sqlExecutionMs: deepPlan['Execution Time'],
        plan: deepPlan.Plan.Plans?.[0]?.['Index Name'] ?? deepPlan.Plan['Node Type'],
      },
      downsampledSeries: { ...downsampled, seriesPoints: LONG_SERIES, maxPoints: 1000, pointsReturned: seriesPoints },
      plainRunsListCapped: plainRuns,
    };
    log(`single requests: ${JSON.stringify(singles)}`);

    // 4. Mixed load.
    const { rows: sample } = await db.query(`SELECT id FROM runs WHERE id <> $1 ORDER BY random() LIMIT 1000`, [
      long.id,
    ]);
    const runIds = sample.map((row) => row.id as string);
    const bodies = [
      () => ({
        query:
          `{ runsPage(first: 50, status: SUCCEEDED) { totalCount nodes { id status createdAt summary ` +
          `hyperparameters } pageInfo { endCursor hasNextPage } } }`,
      }),
      () => ({
        query:
          `query($id: ID!) { run(id: $id) { id status summary metrics(maxPoints: 200) { name points { step value } ` +
          `} } }`,
        variables: { id: runIds[Math.floor(Math.random() * runIds.length)] },
      }),
      () => ({
        query:
          `query($id: ID!) { sweep(id: $id) { id name status runsPage(first: 50) { totalCount nodes { id status ` +
          `hyperparameters summary } } } }`,
        variables: { id: sweep.id },
      }),
      () => ({
        query: `query($runId: ID!, $rows: [JSON!]!) { predict(runId: $runId, rows: $rows) }`,
        variables: {
          runId: startRun.id,
          rows: [
            { 'Sepal Length (cm)': 5.1, 'Sepal Width (cm)': 3.5, 'Petal Length (cm)': 1.4, 'Petal Width (cm)': 0.2 },
          ],
        },
      }),
    ];
    const kinds = ['runsPage', 'runWithDownsampledMetrics', 'sweepRunsPage', 'predict'];
    let next = 0;
    let graphqlErrors = 0;
    const firstErrors: string[] = [];
    const apiPid = stack.api!.child.pid!;
    const rss: number[] = [rssMb(apiPid)];
    const loadBefore = loadavg()[0];
    const sampler = setInterval(() => rss.push(rssMb(apiPid)), 1000);
    log(`load: ${CONNECTIONS} connections for ${SECONDS} s over ${kinds.join(', ')}`);
    const load = await autocannon({
      url: `${stack.url}/graphql`,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (request) => ({ ...request, body: JSON.stringify(bodies[next++ % bodies.length]()) }),
          onResponse: (status, body) => {
            if (status === 200 && !body.includes('"errors"')) return;
            graphqlErrors++;
            if (firstErrors.length < 3) firstErrors.push(`${status} ${body.slice(0, 300)}`);
          },
        },
      ],
    });
    clearInterval(sampler);
    const loadAfter = loadavg()[0];
    rss.push(rssMb(apiPid));
    const third = Math.max(1, Math.floor(rss.length / 3));
    const mean = (values: number[]) => Math.round(values.reduce((sum, value) => sum + value, 0) / values.length);
    const mixed = {
      connections: CONNECTIONS,
      seconds: SECONDS,
      kinds,
      requests: load.requests.total,
      requestsPerSecond: load.requests.average,
      latencyMs: { p50: load.latency.p50, p90: load.latency.p90, p99: load.latency.p99, max: load.latency.max },
      errors: load.errors + load.timeouts + load.non2xx + graphqlErrors,
      firstErrors,
      // The machine's 1-minute load average (2 cores, shared): latency here is mostly waiting for a core.
      loadAverage: { before: loadBefore, after: loadAfter },
      apiRssMb: {
        start: rss[0],
        end: rss.at(-1),
        max: Math.max(...rss),
        firstThirdMean: mean(rss.slice(0, third)),
        lastThirdMean: mean(rss.slice(-third)),
        everySecond: rss,
      },
    };
    log(`mixed load: ${JSON.stringify(mixed)}`);

    const perKind: Record<string, unknown> = {};
    for (let kind = 0; PER_KIND_SECONDS > 0 && kind < kinds.length; kind++) {
      const alone = await autocannon({
        url: `${stack.url}/graphql`,
        connections: CONNECTIONS,
        duration: PER_KIND_SECONDS,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: JSON.stringify(bodies[kind]()) }),
          },
        ],
      });
      perKind[kinds[kind]] = {
        requestsPerSecond: alone.requests.average,
        p50: alone.latency.p50,
        p99: alone.latency.p99,
      };
      log(`${kinds[kind]} alone: ${JSON.stringify(perKind[kinds[kind]])}`);
    }

    const result = {
      date: new Date().toISOString(),
      machine: 'this VM (2 cores shared); PostgreSQL 15 on 127.0.0.1; the API as a child process',
      seeded: {
        vacuumed: VACUUM,
        runs: counts.runs,
        metricPoints: counts.points,
        sweepTrials: SWEEP_TRIALS,
        longSeries: LONG_SERIES,
        seedSeconds,
      },
      metricWrites: { first1000: writesFirst, at10M: writesAtScale },
      single: singles,
      mixedLoad: mixed,
      ...(PER_KIND_SECONDS > 0
        ? { perKindAlone: { seconds: PER_KIND_SECONDS, connections: CONNECTIONS, ...perKind } }
        : {}),
      goals: { p99AtMost100ms: mixed.latencyMs.p99 <= 100, noError: mixed.errors === 0 },
    };
    const out = OUT ? resolve(OUT) : resolve(import.meta.dirname, '..', '..', 'bench', 'results', 'api.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${out}`);
    await prisma.$disconnect();
  } finally {
    await db.end().catch(() => undefined);
    if (CPU_PROF_DIR) await stack.stopApi('SIGTERM'); // the preload writes the profile on SIGTERM
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
