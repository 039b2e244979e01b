/**
 * The dashboard at scale: time to first chart in headless Chromium.
 *
 *   npm run bench:ui      (build, then node dist/bench/ui.bench.js; about a minute)
 *
 * Starts the built API (no worker: nothing trains) on a fresh PostgreSQL database, uploads iris and creates a
 * model through the API, then seeds by straight SQL: one run of 1,000,000 `loss` and 1,000,000 `val_loss` points,
 * and one finished sweep of 5,000 trials (hyperparameters, objective, a mix of statuses with pruned ones, 30
 * intermediate values each). It then opens each page REPEAT times in a fresh Chromium page and records the time
 * from navigation start to its first chart drawn with data (the run's loss chart; the sweep's objective-by-trial
 * and parallel-coordinates charts), and for the sweep also until its 200 intermediate curves are drawn.
 * Side by side, in the same run, the peer a page without downsampling would be: fetching the run's full series
 * (no maxPoints) over GraphQL alone, before any drawing.
 * Writes bench/results/ui.json. BENCH_UI_POINTS and BENCH_UI_TRIALS shrink it for a quick look.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

import pg from 'pg';

import { launchBrowser } from '../test/support/browser.js';
import { irisCsv } from '../test/support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP } from '../test/support/graphql.js';
import { TestStack } from '../test/support/stack.js';

const POINTS = Number(process.env.BENCH_UI_POINTS ?? 1_000_000);
const TRIALS = Number(process.env.BENCH_UI_TRIALS ?? 5_000);
const EPOCHS_PER_TRIAL = 30;
const REPEAT = 3;

const log = (message: string) => console.log(`[bench:ui ${new Date().toISOString().slice(11, 19)}] ${message}`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number) => Number(value.toFixed(0));

async function main(): Promise<void> {
  const stack = new TestStack();
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  const browser = await launchBrowser();
  try {
    log(`starting the API on database ${stack.name}`);
    await stack.start({ workers: 0 });
    await db.connect();
    const { body: dataset } = await stack.upload(irisCsv(), 'iris.csv', { name: 'iris' });
    const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'iris-mlp', spec: IRIS_MLP } });
    const training = { target: 'Species', epochs: EPOCHS_PER_TRIAL, batchSize: 16, validationSplit: 0.2, seed: 7 };

    log(`seeding a run of ${POINTS} points per series and a sweep of ${TRIALS} trials`);
    const seedStart = performance.now();
    await db.query('SET synchronous_commit = off');
    const {
      rows: [run],
    } = await db.query(
      `INSERT INTO runs (id, status, dataset_id, model_id, hyperparameters, training, epochs_completed, summary, device,
         created_at, started_at, finished_at)
       VALUES (gen_random_uuid(), 'SUCCEEDED', $1, $2, '{"hidden": 16, "lr": 0.02}', $3, $4,
         '{"loss": 0.05, "val_loss": 0.08}', 'wasm', now(), now(), now()) RETURNING id`,
      [dataset.id, createModel.id, { ...training, epochs: POINTS }, POINTS],
    );
    await db.query(
      `INSERT INTO metric_points (run_id, name, step, epoch, value, timestamp)
       SELECT $1, m.name, s, s, exp(-s / ${POINTS / 5}.0) * m.scale + random() / 10, now()
       FROM (VALUES ('loss', 1.0), ('val_loss', 1.2)) m(name, scale) CROSS JOIN generate_series(1, ${POINTS}) s`,
      [run.id],
    );
    const searchSpace = {
      lr: { type: 'loguniform', min: 0.0001, max: 0.1 },
      hidden: { type: 'int', min: 8, max: 128, step: 8 },
    };
    const {
      rows: [sweep],
    } = await db.query(
      `INSERT INTO sweeps (id, name, status, strategy, search_space, metric, goal, max_trials, parallelism,
        training, seed,
         dataset_id, model_id, created_at, finished_at)
       VALUES (gen_random_uuid(), 'five thousand', 'SUCCEEDED', 'TPE', $1, 'val_loss', 'MINIMIZE', ${TRIALS},
         4, $2, 1, $3, $4,
         now() - interval '1 day', now()) RETURNING id`,
      [searchSpace, training, dataset.id, createModel.id],
    );
    // val_loss falls with lr near 0.01 and more hidden units; every 7th trial is pruned after 5 epochs.
    await db.query(
      `INSERT INTO runs (id, status, dataset_id, model_id, sweep_id, trial_index, hyperparameters, training,
        epochs_completed,
         summary, created_at, started_at, finished_at)
       SELECT gen_random_uuid(), CASE WHEN i % 7 = 0 THEN 'PRUNED' ELSE 'SUCCEEDED' END::"RunStatus", $1, $2, $3, i,
         jsonb_build_object('lr', lr, 'hidden', hidden), $4, CASE WHEN i % 7 = 0 THEN 5 ELSE ${EPOCHS_PER_TRIAL} END,
         jsonb_build_object('val_loss', 0.1 + abs(ln(lr / 0.01)) / 5 + 8.0 / hidden + random() / 20),
         now() - interval '1 day' + i * interval '1 second', now(), now()
       FROM (SELECT i, exp(ln(0.0001) + random() * ln(1000)) AS lr, 8 * (1 + floor(random() * 16))::int AS hidden
             FROM generate_series(0, ${TRIALS - 1}) i) t`,
      [dataset.id, createModel.id, sweep.id, training],
    );
    await db.query(
      `INSERT INTO metric_points (run_id, name, step, epoch, value, timestamp)
       SELECT r.id, 'val_loss', e, e, (r.summary->>'val_loss')::float * (1 + 2.0 / e), now()
       FROM runs r CROSS JOIN generate_series(1,
         ${EPOCHS_PER_TRIAL}) e WHERE r.sweep_id = $1 AND e <= r.epochs_completed`,
      [sweep.id],
    );
    await db.query('ANALYZE');
    const seedSeconds = Number(((performance.now() - seedStart) / 1000).toFixed(1));
    log(`seeded in ${seedSeconds} s`);

    /** Where a page's time went: the script loaded, and its GraphQL requests (count, slowest, last to end). */
    const breakdowns: Record<
      string,
      { scriptMs: number; graphqlRequests: number; slowestGraphqlMs: number; lastGraphqlEndMs: number }[]
    > = {};
    /** Milliseconds from navigation start until `ready` holds in a fresh page, as the page's own clock says. */
    const timeToReady = async (path: string, ready: string, label?: string): Promise<number> => {
      const page = await browser.newPage();
      try {
        await page.goto(`${stack.url}${path}`, { waitUntil: 'domcontentloaded' });
        await page.waitForFunction(ready, { timeout: 120_000, polling: 'raf' });
        const [now, breakdown] = await page.evaluate(() => {
          const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
          const graphql = entries.filter((entry) => entry.name.endsWith('/graphql'));
          const script = entries.find((entry) => entry.name.endsWith('/assets/app.js'));
          return [
            performance.now(),
            {
              scriptMs: Math.round(script?.responseEnd ?? 0),
              graphqlRequests: graphql.length,
              slowestGraphqlMs: Math.round(Math.max(0, ...graphql.map((entry) => entry.duration))),
              lastGraphqlEndMs: Math.round(Math.max(0, ...graphql.map((entry) => entry.responseEnd))),
            },
          ] as const;
        });
        if (label) (breakdowns[label] ??= []).push(breakdown);
        return now;
      } finally {
        await page.close();
      }
    };
    const runReady = `Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points')) > 0
      && !!document.querySelector('[data-chart="loss"] canvas')`;
    const sweepReady = `!!document.querySelector('[data-chart="objective by trial"] canvas')
      && !!document.querySelector('[data-chart="parallel coordinates"] canvas')
      && document.querySelector('[aria-label=trials]')?.getAttribute('data-rows') === '${TRIALS}'`;
    const curvesReady = `${sweepReady} && document.querySelector('[data-chart="intermediate values"]')
      ?.getAttribute('data-series') === '${Math.min(200, TRIALS)}'`;

    const runTimes: number[] = [];
    const sweepTimes: number[] = [];
    const curveTimes: number[] = [];
    const fullSeriesTimes: number[] = [];
    let pointsDrawn = 0;
    await timeToReady(`/ui/runs/${run.id}`, runReady); // warm the API's and Chromium's caches once, untimed
    for (let i = 0; i < REPEAT; i++) {
      runTimes.push(await timeToReady(`/ui/runs/${run.id}`, runReady, 'run'));
      sweepTimes.push(await timeToReady(`/ui/sweeps/${sweep.id}`, sweepReady, 'sweep'));
      curveTimes.push(await timeToReady(`/ui/sweeps/${sweep.id}`, curvesReady, 'sweepCurves'));
      const start = performance.now();
      const full = await stack.gqlOk(
        `query($id: ID!) { run(id: $id) { metrics(names: ["loss"]) { points { step value } } } }`,
        {
          id: run.id,
        },
      );
      fullSeriesTimes.push(performance.now() - start);
      pointsDrawn = full.run.metrics[0].points.length;
    }
    const downsampled = await stack.gqlOk(
      `query($id: ID!) { run(id: $id) { metrics(names: ["loss"], maxPoints: 660) { points { step } } } }`,
      { id: run.id },
    );
    const result = {
      date: new Date().toISOString(),
      pointsPerSeries: POINTS,
      trials: TRIALS,
      seedSeconds,
      runFirstChartMs: { median: round(median(runTimes)), all: runTimes.map(round) },
      sweepFirstChartsMs: { median: round(median(sweepTimes)), all: sweepTimes.map(round) },
      sweepIntermediateCurvesMs: { median: round(median(curveTimes)), all: curveTimes.map(round) },
      peerFullSeriesFetchMs: {
        median: round(median(fullSeriesTimes)),
        all: fullSeriesTimes.map(round),
        points: pointsDrawn,
      },
      downsampledPointsAt660px: downsampled.run.metrics[0].points.length,
      breakdowns,
      loadAverage: (await import('node:os')).loadavg().map((value) => Number(value.toFixed(1))),
    };
    log(JSON.stringify(result, null, 2));
    const out = resolve(import.meta.dirname, '..', '..', 'bench', 'results', 'ui.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${out}`);
  } finally {
    await browser.close();
    await db.end().catch(() => undefined);
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
