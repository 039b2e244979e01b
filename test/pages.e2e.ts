import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStack } from './support/stack.js';

/**
 * Cursor pages, capped plain lists and downsampled metric series, against the built API and a real
 * PostgreSQL. Rows are seeded by SQL (what is under test is reading them), with created_at ties on
 * purpose: three runs share each timestamp, so the id tiebreak of the keyset is exercised on every page.
 */
const LIST_CAP = 40;
const SEEDED_RUNS = 90;

const RUN_PAGE = `query($first: Int, $after: String, $status: RunStatus, $sweepId: ID) {
  runsPage(first: $first, after: $after, status: $status, sweepId: $sweepId) {
    totalCount nodes { id status createdAt } pageInfo { endCursor hasNextPage } } }`;

interface PageNode {
  id: string;
  createdAt: string;
}

/** Newest first: each node strictly before the previous in (createdAt, id) descending order. */
function expectNewestFirst(nodes: PageNode[]): void {
  for (let i = 1; i < nodes.length; i++) {
    const [a, b] = [nodes[i - 1], nodes[i]];
    const before = a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);
    expect(before, `${a.createdAt} ${a.id} then ${b.createdAt} ${b.id}`).toBe(true);
  }
}

describe('cursor pages and capped lists', () => {
  const stack = new TestStack({ MAX_LIST_ITEMS: String(LIST_CAP) });
  let datasetId: string;
  let modelId: string;
  let sweepId: string;
  let seededRunIds: string[];

  /** Pages through a list with `first`, returning every node in the order served. */
  async function pageThrough(
    field: string,
    selection: string,
    first: number,
    variables: Record<string, unknown> = {},
    during?: () => Promise<void>,
  ) {
    const nodes: PageNode[] = [];
    let after: string | null = null;
    for (let pages = 0; ; pages++) {
      expect(pages, 'pages never end').toBeLessThan(1000);
      const data: Record<string, any> = await stack.gqlOk(selection, { ...variables, first, after });
      const page: { nodes: PageNode[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } = field
        .split('.')
        .reduce((value: any, key) => value[key], data);
      expect(page.nodes.length).toBeLessThanOrEqual(first);
      nodes.push(...page.nodes);
      if (during) await during();
      if (!page.pageInfo.hasNextPage) {
        expect(page.pageInfo.endCursor === null || page.nodes.length > 0).toBe(true);
        return nodes;
      }
      after = page.pageInfo.endCursor;
    }
  }

  beforeAll(async () => {
    await stack.start({ workers: 0 });
    [{ id: datasetId }] = await stack.query<{
      id: string;
    }>(`INSERT INTO datasets (id, name, format, status, size_bytes, row_count, columns, created_at)
      SELECT gen_random_uuid(), 'd' || i, 'csv', 'READY', 10, 1, '[]', timestamp '2026-01-01' + (i / 2) * interval '1 s'
      FROM generate_series(1, 23) i RETURNING id`);
    [{ id: modelId }] = await stack.query<{
      id: string;
    }>(`INSERT INTO model_definitions (id, name, version, spec, created_at)
      SELECT gen_random_uuid(), 'm', i, '{}', timestamp '2026-01-01' + (i / 2) * interval '1 s'
      FROM generate_series(1, 17) i RETURNING id`);
    const sweeps = await stack.query<{ id: string }>(
      `INSERT INTO sweeps (id, name, status, strategy, search_space, metric, goal,
        max_trials, parallelism, training, seed, dataset_id, model_id, created_at)
      SELECT gen_random_uuid(), 's' || i, 'RUNNING', 'RANDOM', '{}', 'val_loss', 'MINIMIZE', 100, 2, '{}', 1, $1, $2,
        timestamp '2026-01-01' + i * interval '1 s'
      FROM generate_series(1, 12) i RETURNING id`,
      [datasetId, modelId],
    );
    sweepId = sweeps[0].id;
    // Every third run is in the sweep, statuses cycle; three runs share each created_at.
    const runs = await stack.query<{ id: string }>(
      `INSERT INTO runs (id, status, dataset_id, model_id, sweep_id, trial_index,
        hyperparameters, training, created_at)
      SELECT gen_random_uuid(), (ARRAY['QUEUED','RUNNING','SUCCEEDED','FAILED']::"RunStatus"[])[1 + i % 4], $1, $2,
        CASE WHEN i % 3 = 0 THEN $3::uuid END, CASE WHEN i % 3 = 0 THEN i END, '{}', '{}',
        timestamp '2026-01-01' + (i / 3) * interval '1 s'
      FROM generate_series(1, ${SEEDED_RUNS}) i RETURNING id`,
      [datasetId, modelId, sweepId],
    );
    seededRunIds = runs.map((run) => run.id);
  }, 120_000);
  afterAll(() => stack.stop());

  it('covers every run exactly once, newest first, while runs are inserted concurrently', async () => {
    let inserted = 0;
    let inserting = true;
    // Inserts keep landing between and during page requests (not only between them).
    const inserter = (async () => {
      while (inserting) {
        await stack.query(
          `INSERT INTO runs (id, status, dataset_id, model_id, hyperparameters, training)
          VALUES (gen_random_uuid(), 'QUEUED', $1, $2, '{}', '{}')`,
          [datasetId, modelId],
        );
        inserted++;
      }
    })();
    const nodes = await pageThrough('runsPage', RUN_PAGE, 7);
    inserting = false;
    await inserter;
    expect(inserted).toBeGreaterThan(0);
    const ids = nodes.map((node) => node.id);
    expect(new Set(ids).size, 'a run came back twice').toBe(ids.length);
    const served = new Set(ids);
    expect(
      seededRunIds.filter((id) => !served.has(id)),
      'runs no page served',
    ).toEqual([]);
    expectNewestFirst(nodes);

    const { runsPage } = await stack.gqlOk(RUN_PAGE, { first: 5 });
    expect(runsPage.totalCount).toBe(SEEDED_RUNS + inserted);
  });

  it('filters by status and by sweep, the same through Sweep.runsPage', async () => {
    const [{ n: succeeded }] = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM runs WHERE status = 'SUCCEEDED'`,
    );
    const bySucceeded = await pageThrough('runsPage', RUN_PAGE, 4, { status: 'SUCCEEDED' });
    expect(bySucceeded.length).toBe(succeeded);
    expect(bySucceeded.every((node: any) => node.status === 'SUCCEEDED')).toBe(true);

    const inSweep = await pageThrough('runsPage', RUN_PAGE, 6, { sweepId });
    expect(inSweep.length).toBe(SEEDED_RUNS / 3);
    const nested = await pageThrough(
      'sweep.runsPage',
      `query($id: ID!, $first: Int, $after: String) { sweep(id: $id) {
      runsPage(first: $first, after: $after) {
        totalCount nodes { id createdAt } pageInfo { endCursor hasNextPage } } } }`,
      4,
      { id: sweepId },
    );
    expect(nested.map((node) => node.id)).toEqual(inSweep.map((node) => node.id));
    const failedInSweep = await stack.gqlOk(
      `query($id: ID!) { sweep(id: $id) { runsPage(first: 500, status: FAILED) { totalCount nodes { status } } } }`,
      { id: sweepId },
    );
    expect(failedInSweep.sweep.runsPage.nodes.length).toBe(failedInSweep.sweep.runsPage.totalCount);
    expect(failedInSweep.sweep.runsPage.nodes.every((node: any) => node.status === 'FAILED')).toBe(true);

    const none = await stack.gqlOk(RUN_PAGE, { sweepId: 'not-a-sweep' });
    expect(none.runsPage).toEqual({ totalCount: 0, nodes: [], pageInfo: { endCursor: null, hasNextPage: false } });
  });

  it('pages datasets, models and sweeps the same way', async () => {
    for (const [field, total] of [
      ['datasetsPage', 23],
      ['modelsPage', 17],
      ['sweepsPage', 12],
    ] as const) {
      const selection = `query($first: Int, $after: String) { ${field}(first: $first, after: $after) {
        totalCount nodes { id createdAt } pageInfo { endCursor hasNextPage } } }`;
      const nodes = await pageThrough(field, selection, 5);
      expect(new Set(nodes.map((node) => node.id)).size, field).toBe(total);
      expect(nodes.length, field).toBe(total);
      expectNewestFirst(nodes);
      expect((await stack.gqlOk(selection, { first: 1 }))[field].totalCount, field).toBe(total);
    }
  });

  it(
    'refuses a cursor it did not make and a page size out ' + 'of range, as BAD_USER_INPUT naming the argument',
    async () => {
      for (const [variables, argument] of [
        [{ after: 'garbage' }, 'after'],
        [{ after: Buffer.from('2026-01-01T00:00:00.000Z|not-a-uuid').toString('base64url') }, 'after'],
        [{ first: 0 }, 'first'],
        [{ first: 501 }, 'first'],
      ] as const) {
        const result = await stack.gql(RUN_PAGE, variables);
        expect(result.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
        expect(result.errors?.[0]?.message).toMatch(new RegExp(`^${argument}:`));
      }
      const nested = await stack.gql(`query($id: ID!) { sweep(id: $id) { runsPage(after: "nope") { totalCount } } }`, {
        id: sweepId,
      });
      expect(nested.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const { runsPage } = await stack.gqlOk(RUN_PAGE, { first: 500 });
      expect(runsPage.nodes.length).toBe(Math.min(500, runsPage.totalCount));
    },
  );

  it('caps the plain lists at MAX_LIST_ITEMS, the newest, and still answers them in full below it', async () => {
    const { runs } = await stack.gqlOk(`{ runs { id } }`);
    const newest = await stack.gqlOk(RUN_PAGE, { first: LIST_CAP });
    expect(runs.map((run: { id: string }) => run.id)).toEqual(newest.runsPage.nodes.map((node: PageNode) => node.id));
    const { datasets, models, sweeps } = await stack.gqlOk(`{ datasets { id } models { id } sweeps { id } }`);
    expect([datasets.length, models.length, sweeps.length]).toEqual([23, 17, 12]);
    const { sweep } = await stack.gqlOk(`query($id: ID!) { sweep(id: $id) { runs { id } } }`, { id: sweepId });
    expect(sweep.runs.length).toBe(SEEDED_RUNS / 3);
    const bigSweep = await stack.query<{ id: string }>(
      `INSERT INTO runs (id, status, dataset_id, model_id, sweep_id, trial_index,
        hyperparameters, training) SELECT gen_random_uuid(), 'SUCCEEDED', $1, $2, $3, 1000 + i, '{}', '{}'
      FROM generate_series(1, ${LIST_CAP}) i RETURNING id`,
      [datasetId, modelId, sweepId],
    );
    const capped = await stack.gqlOk(`query($id: ID!) { sweep(id: $id) { runs { id } } }`, { id: sweepId });
    // The latest trials, still in trial order.
    expect(capped.sweep.runs.map((run: { id: string }) => run.id)).toEqual(bigSweep.map((run) => run.id));
  });

  it(
    'downsamples a series in SQL to at most maxPoints, keeping ' + "the first, the last and each bucket's min and max",
    async () => {
      const [{ id: runId }] = await stack.query<{ id: string }>(
        `INSERT INTO runs (id, status, dataset_id, model_id, hyperparameters, training)
      VALUES (gen_random_uuid(), 'SUCCEEDED', $1, $2, '{}', '{}') RETURNING id`,
        [datasetId, modelId],
      );
      const count = 20_000;
      // A noisy decay with a spike and a dip far from the ends; steps start at 5 and skip every seventh.
      await stack.query(
        `INSERT INTO metric_points (run_id, name, step, epoch, value, timestamp)
      SELECT $1, 'loss', s, s / 100,
        CASE WHEN i = 7777 THEN 50 WHEN i = 12345 THEN -50 ELSE exp(-i / 5000.0) + sin(i) / 10 END,
        timestamp '2026-01-01' + i * interval '1 ms'
      FROM (SELECT i, 5 + i + i / 7 AS s FROM generate_series(0, ${count - 1}) i) g`,
        [runId],
      );
      await stack.query(
        `INSERT INTO metric_points (run_id, name, step, value) SELECT $1, 'lr', i, 0.1 FROM generate_series(0, 9) i`,
        [runId],
      );
      const all = await stack.query<{ step: number; value: number }>(
        `SELECT step, value FROM metric_points WHERE run_id = $1 AND name = 'loss' ORDER BY step`,
        [runId],
      );

      const query = `query($id: ID!, $max: Int, $names: [String!]) { run(id: $id) {
      metrics(names: $names, maxPoints: $max) { name points { step epoch value timestamp } } } }`;
      for (const maxPoints of [2, 3, 100, 1001]) {
        const { run } = await stack.gqlOk(query, { id: runId, max: maxPoints, names: ['loss'] });
        const points: { step: number; value: number; epoch: number; timestamp: string }[] = run.metrics[0].points;
        expect(points.length, `maxPoints ${maxPoints}`).toBeLessThanOrEqual(maxPoints);
        expect(points[0].step).toBe(all[0].step);
        expect(points.at(-1)!.step).toBe(all.at(-1)!.step);
        for (let i = 1; i < points.length; i++) expect(points[i].step).toBeGreaterThan(points[i - 1].step);
        // Every point is a stored point, whole (epoch and timestamp too).
        const stored = new Map(all.map((point) => [point.step, point.value]));
        for (const point of points) expect(point.value).toBe(stored.get(point.step));
        expect(points[0].epoch).toBe(Math.floor(all[0].step / 100));
        const buckets = Math.floor((maxPoints - 2) / 2);
        if (buckets === 0) {
          expect(points.length).toBe(2);
          continue;
        }
        expect(points.length).toBeGreaterThan(maxPoints / 2);
        // Each bucket's min and max (by equal step ranges, as the server cuts them) are there.
        const [lo, hi] = [all[0].step, all.at(-1)!.step];
        const steps = new Set(points.map((point) => point.step));
        const byBucket = new Map<number, { step: number; value: number }[]>();
        for (const point of all) {
          const bucket = Math.floor(((point.step - lo) * buckets) / (hi + 1 - lo));
          byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), point]);
        }
        expect(byBucket.size).toBe(buckets);
        for (const members of byBucket.values()) {
          const min = members.reduce((best, point) => (point.value < best.value ? point : best));
          const max = members.reduce((best, point) => (point.value > best.value ? point : best));
          expect(steps.has(min.step), `min at ${min.step}`).toBe(true);
          expect(steps.has(max.step), `max at ${max.step}`).toBe(true);
        }
        expect(points.some((point) => point.value === 50) && points.some((point) => point.value === -50)).toBe(true);
      }

      // A series shorter than maxPoints comes back whole, beside a long one downsampled.
      const { run } = await stack.gqlOk(query, { id: runId, max: 50 });
      const byName = Object.fromEntries(run.metrics.map((series: any) => [series.name, series.points]));
      expect(byName.lr.map((point: any) => point.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(byName.loss.length).toBeLessThanOrEqual(50);

      const bad = await stack.gql(query, { id: runId, max: 1 });
      expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(bad.errors?.[0]?.message).toMatch(/^maxPoints:/);
    },
  );

  it('serves deep pages from the (…, created_at, id) indexes, never by scanning what came before', async () => {
    // Enough rows that PostgreSQL would rather sort than seek if the index could not serve the keyset.
    await stack.query(
      `INSERT INTO runs (id, status, dataset_id, model_id, hyperparameters, training, created_at)
      SELECT gen_random_uuid(), (ARRAY['QUEUED','SUCCEEDED']::"RunStatus"[])[1 + i % 2], $1, $2, '{}', '{}',
        timestamp '2025-01-01' + (i / 4) * interval '1 s'
      FROM generate_series(1, 30000) i`,
      [datasetId, modelId],
    );
    await stack.query('ANALYZE runs');
    const [{ created_at: createdAt, id }] = await stack.query<{ created_at: Date; id: string }>(
      `SELECT created_at, id FROM runs ORDER BY created_at DESC, id DESC OFFSET 15000 LIMIT 1`,
    );
    // The SQL Prisma sends for afterCursor(): `createdAt <= c AND (createdAt < c OR id < i)`.
    const explain = async (filter: string, params: unknown[]) =>
      (
        await stack.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT * FROM runs WHERE ${filter}
        created_at <= $1 AND (created_at < $1 OR id < $2) ORDER BY created_at DESC, id DESC LIMIT 51`,
          [createdAt, id, ...params],
        )
      )
        .map((row) => row['QUERY PLAN'])
        .join('\n');
    for (const [filter, params, index] of [
      ['', [], /Index Scan using runs_created_at_id_idx on runs/],
      // Half the runs match: PostgreSQL may seek either index, both give the order without a sort.
      [`status = $3 AND`, ['SUCCEEDED'], /Index Scan using runs_(status_)?created_at_id_idx on runs/],
      [`sweep_id = $3 AND`, [sweepId], /Index Scan using runs_sweep_id_created_at_id_idx on runs/],
    ] as const) {
      const plan = await explain(filter, [...params]);
      expect(plan, plan).toMatch(index);
      expect(plan, plan).toMatch(/Index Cond: .*created_at <= /);
      expect(plan, plan).not.toMatch(/Sort|Seq Scan/);
    }

    // And the API's own query does use the index: its scan counter moves when a deep page is asked for.
    const scans = async () =>
      Number(
        (
          await stack.query<{ n: string }>(`SELECT pg_stat_clear_snapshot(), idx_scan AS n FROM pg_stat_user_indexes
        WHERE indexrelname = 'runs_created_at_id_idx'`)
        )[0].n,
      );
    const before = await scans();
    const cursor = Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
    const { runsPage } = await stack.gqlOk(RUN_PAGE, { first: 50, after: cursor });
    expect(runsPage.nodes.length).toBe(50);
    let after = before;
    for (let tries = 0; tries < 40 && after === before; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await scans();
    }
    expect(after).toBeGreaterThan(before);
  }, 120_000);
});
