import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { irisCsv } from './support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP } from './support/graphql.js';
import { TestStack } from './support/stack.js';

const CREATE_SWEEP =
  `mutation($input: CreateSweepInput!) { createSweep(input: $input) { id status strategy maxTrials parallelism ` +
  `objective { metric goal } } }`;
const SWEEP =
  `query($id: ID!) { sweep(id: $id) { id status error finishedAt runs { id status hyperparameters summary error ` +
  `epochsCompleted } bestRun { id summary } } }`;

describe('sweeps', () => {
  const stack = new TestStack();
  let datasetId: string;
  let modelId: string;

  beforeAll(async () => {
    await stack.start({ workers: 2 });
    datasetId = (await stack.upload(irisCsv(), 'iris.csv')).body.id;
    modelId = (await stack.gqlOk(CREATE_MODEL, { input: { name: 'mlp', spec: IRIS_MLP } })).createModel.id;
  });
  afterAll(() => stack.stop());

  const sweepInput = (overrides: Record<string, unknown> = {}) => ({
    name: 'iris-random',
    datasetId,
    modelId,
    strategy: 'RANDOM',
    searchSpace: {
      hidden: { type: 'int', min: 8, max: 32, step: 8 },
      lr: { type: 'loguniform', min: 0.005, max: 0.05 },
    },
    objective: { metric: 'val_accuracy', goal: 'MAXIMIZE' },
    maxTrials: 6,
    parallelism: 2,
    training: { target: 'Species', epochs: 25, batchSize: 16, seed: 3 },
    seed: 11,
    ...overrides,
  });

  async function waitForSweep(
    id: string,
    onPoll?: (sweep: Record<string, any>) => void,
    timeoutMs = 180_000,
  ): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { sweep } = await stack.gqlOk(SWEEP, { id });
      onPoll?.(sweep);
      if (sweep.status !== 'RUNNING') return sweep;
      if (Date.now() > deadline)
        throw new Error(
          `sweep still RUNNING: ` +
            `${JSON.stringify(sweep.runs.map((r: { status: string }) => r.status))}\n${stack.logs()}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it(
    'runs a RANDOM sweep of 6 trials, at most 2 at once, spread over both workers, to a best run at val_accuracy ≥ ' +
      '0.9',
    async () => {
      const { createSweep } = await stack.gqlOk(CREATE_SWEEP, { input: sweepInput() });
      expect(createSweep).toMatchObject({
        status: 'RUNNING',
        strategy: 'RANDOM',
        maxTrials: 6,
        parallelism: 2,
        objective: { metric: 'val_accuracy', goal: 'MAXIMIZE' },
      });
      let mostActive = 0;
      const sweep = await waitForSweep(createSweep.id, (s) => {
        mostActive = Math.max(
          mostActive,
          s.runs.filter((r: { status: string }) => r.status === 'QUEUED' || r.status === 'RUNNING').length,
        );
      });
      expect(sweep.status).toBe('SUCCEEDED');
      expect(sweep.runs).toHaveLength(6);
      expect(mostActive).toBeLessThanOrEqual(2);
      expect(sweep.runs.every((r: { status: string }) => r.status === 'SUCCEEDED')).toBe(true);
      for (const run of sweep.runs) {
        expect([8, 16, 24, 32]).toContain(run.hyperparameters.hidden);
        expect(run.hyperparameters.lr).toBeGreaterThanOrEqual(0.005);
        expect(run.hyperparameters.lr).toBeLessThanOrEqual(0.05);
      }
      const best = Math.max(...sweep.runs.map((r: { summary: { val_accuracy: number } }) => r.summary.val_accuracy));
      expect(sweep.bestRun.summary.val_accuracy).toBe(best);
      expect(best).toBeGreaterThanOrEqual(0.9);
      const workers = await stack.query<{ worker_id: string }>(
        'SELECT DISTINCT worker_id FROM runs WHERE sweep_id = $1',
        [createSweep.id],
      );
      expect(workers.length).toBe(2);
      const { runs } = await stack.gqlOk(`query($id: ID!) { runs(sweepId: $id) { id sweep { id } } }`, {
        id: createSweep.id,
      });
      expect(runs).toHaveLength(6);
      expect(runs[0].sweep.id).toBe(createSweep.id);
    },
  );

  it('gives the same trials for the same seed', async () => {
    const first = (
      await stack.gqlOk(CREATE_SWEEP, {
        input: sweepInput({ maxTrials: 2, training: { target: 'Species', epochs: 2 } }),
      })
    ).createSweep;
    const second = (
      await stack.gqlOk(CREATE_SWEEP, {
        input: sweepInput({ maxTrials: 2, training: { target: 'Species', epochs: 2 } }),
      })
    ).createSweep;
    const [a, b] = [await waitForSweep(first.id), await waitForSweep(second.id)];
    const params = (s: Record<string, any>) => s.runs.map((r: { hyperparameters: unknown }) => r.hyperparameters);
    expect(params(a)).toEqual(params(b));
  });

  it('prunes at least one trial of a HYPERBAND sweep, keeping its metrics and checkpoints', async () => {
    const { createSweep } = await stack.gqlOk(CREATE_SWEEP, {
      input: sweepInput({
        name: 'iris-hyperband',
        strategy: 'HYPERBAND',
        searchSpace: {
          hidden: { type: 'choice', values: [2, 4, 16, 32] },
          lr: { type: 'loguniform', min: 0.0005, max: 0.05 },
        },
        objective: { metric: 'val_loss', goal: 'MINIMIZE' },
        maxTrials: 9,
        parallelism: 3,
        training: { target: 'Species', epochs: 9, batchSize: 16, seed: 3 },
        earlyStopping: { rule: 'hyperband', minEpochs: 1, maxEpochs: 9, reductionFactor: 3 },
      }),
    });
    const sweep = await waitForSweep(createSweep.id);
    expect(sweep.status).toBe('SUCCEEDED');
    expect(sweep.runs).toHaveLength(9);
    const pruned = sweep.runs.filter((r: { status: string }) => r.status === 'PRUNED');
    expect(pruned.length).toBeGreaterThanOrEqual(1);
    for (const run of pruned) {
      expect(run.epochsCompleted).toBeLessThan(9);
      const { run: detail } = await stack.gqlOk(
        `query($id: ID!) { run(id: $id) { metrics(names: ["val_loss"]) { points { step } } checkpoints { id } } }`,
        { id: run.id },
      );
      expect(detail.metrics[0].points).toHaveLength(run.epochsCompleted);
      expect(detail.checkpoints.length).toBeGreaterThan(0);
    }
    expect(sweep.bestRun.summary.val_loss).toBe(
      Math.min(
        ...sweep.runs
          .filter((r: { status: string }) => r.status === 'SUCCEEDED')
          .map((r: { summary: { val_loss: number } }) => r.summary.val_loss),
      ),
    );
  });

  it('cancels a sweep mid-way, leaving no trial QUEUED or RUNNING', async () => {
    const { createSweep } = await stack.gqlOk(CREATE_SWEEP, {
      input: sweepInput({ maxTrials: 20, training: { target: 'Species', epochs: 2000, batchSize: 16 } }),
    });
    const deadline = Date.now() + 60_000;
    while (
      (await stack.query('SELECT 1 FROM runs WHERE sweep_id = $1 AND epochs_completed > 0', [createSweep.id]))
        .length === 0
    ) {
      if (Date.now() > deadline) throw new Error(stack.logs());
      await new Promise((r) => setTimeout(r, 100));
    }
    const { cancelSweep } = await stack.gqlOk(`mutation($id: ID!) { cancelSweep(id: $id) { id status finishedAt } }`, {
      id: createSweep.id,
    });
    expect(cancelSweep.status).toBe('CANCELLED');
    const settle = Date.now() + 30_000;
    for (;;) {
      const active = await stack.query(`SELECT id FROM runs WHERE sweep_id = $1 AND status IN ('QUEUED', 'RUNNING')`, [
        createSweep.id,
      ]);
      if (active.length === 0) break;
      if (Date.now() > settle) throw new Error(`trials still active after cancelSweep\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { sweep } = await stack.gqlOk(SWEEP, { id: createSweep.id });
    expect(sweep.status).toBe('CANCELLED');
    expect(sweep.runs.length).toBeLessThan(20);
    expect(sweep.runs.every((r: { status: string }) => r.status === 'CANCELLED')).toBe(true);
  });

  it('fails a sweep whose first 5 trials all fail, with their error', async () => {
    const sgd = (
      await stack.gqlOk(CREATE_MODEL, {
        input: { name: 'sgd-mlp', spec: { ...IRIS_MLP, optimizer: { type: 'sgd', learningRate: '$lr' } } },
      })
    ).createModel.id;
    const { createSweep } = await stack.gqlOk(CREATE_SWEEP, {
      input: sweepInput({
        modelId: sgd,
        name: 'diverging',
        searchSpace: { hidden: { type: 'choice', values: [64] }, lr: { type: 'uniform', min: 1e12, max: 1e13 } },
        maxTrials: 8,
        training: { target: 'Species', epochs: 3, batchSize: 4 },
      }),
    });
    const sweep = await waitForSweep(createSweep.id, undefined, 60_000);
    expect(sweep.status).toBe('FAILED');
    expect(sweep.error).toMatch(/first 5 trial\(s\) all failed.*loss became/);
    expect(sweep.runs.filter((r: { status: string }) => r.status === 'FAILED').length).toBeGreaterThanOrEqual(5);
    // A trial still running when the sweep failed is stopped within an epoch.
    const settle = Date.now() + 30_000;
    while (
      (
        await stack.query(`SELECT 1 FROM runs WHERE sweep_id = $1 AND status IN ('QUEUED', 'RUNNING')`, [
          createSweep.id,
        ])
      ).length > 0
    ) {
      if (Date.now() > settle) throw new Error(`trials still active after the sweep failed\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it.each([
    [
      'min ≥ max',
      { hidden: { type: 'int', min: 8, max: 8 }, lr: { type: 'uniform', min: 0.1, max: 0.01 } },
      'RANDOM',
      /searchSpace\.\w+/,
    ],
    [
      'loguniform with min ≤ 0',
      { hidden: { type: 'int', min: 8, max: 32 }, lr: { type: 'loguniform', min: 0, max: 0.1 } },
      'RANDOM',
      /searchSpace\.lr/,
    ],
    [
      'an empty choice',
      { hidden: { type: 'choice', values: [] }, lr: { type: 'uniform', min: 0.001, max: 0.1 } },
      'RANDOM',
      /searchSpace\.hidden/,
    ],
    [
      'GRID over a continuous range',
      { hidden: { type: 'choice', values: [8] }, lr: { type: 'uniform', min: 0.001, max: 0.1 } },
      'GRID',
      /searchSpace\.lr/,
    ],
    [
      'a $name with no parameter',
      { hidden: { type: 'int', min: 8, max: 32 } },
      'RANDOM',
      /refers to \$lr, but the search space has no parameter "lr"/,
    ],
    [
      'a parameter the spec never uses',
      {
        hidden: { type: 'int', min: 8, max: 32 },
        lr: { type: 'uniform', min: 0.001, max: 0.1 },
        depth: { type: 'int', min: 1, max: 3 },
      },
      'RANDOM',
      /searchSpace\.depth is not used by the model spec/,
    ],
  ])('refuses a search space with %s, writing nothing', async (_what, searchSpace, strategy, message) => {
    const before = await stack.counts();
    const result = await stack.gql(CREATE_SWEEP, { input: sweepInput({ searchSpace, strategy }) });
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(message);
    expect(await stack.counts()).toEqual(before);
  });

  it('refuses an objective the runs do not report', async () => {
    const result = await stack.gql(CREATE_SWEEP, {
      input: sweepInput({ objective: { metric: 'val_f1', goal: 'MAXIMIZE' } }),
    });
    expect(result.errors?.[0].message).toMatch(/objective\.metric "val_f1" is not reported/);
  });
});

describe('a sweep across a restart of the API and the worker', () => {
  const stack = new TestStack({ WORKER_HEARTBEAT_TIMEOUT: '2000', WORKER_HEARTBEAT_INTERVAL: '300' });
  afterAll(() => stack.stop());

  it('finishes with exactly maxTrials trials', async () => {
    await stack.start({ workers: 1 });
    const datasetId = (await stack.upload(irisCsv(), 'iris.csv')).body.id;
    const modelId = (await stack.gqlOk(CREATE_MODEL, { input: { name: 'mlp', spec: IRIS_MLP } })).createModel.id;
    const { createSweep } = await stack.gqlOk(CREATE_SWEEP, {
      input: {
        name: 'restart',
        datasetId,
        modelId,
        strategy: 'TPE',
        searchSpace: { hidden: { type: 'int', min: 4, max: 32 }, lr: { type: 'loguniform', min: 0.001, max: 0.05 } },
        objective: { metric: 'val_loss', goal: 'MINIMIZE' },
        maxTrials: 6,
        parallelism: 2,
        training: { target: 'Species', epochs: 15, batchSize: 8 },
        seed: 5,
      },
    });
    const deadline = Date.now() + 60_000;
    while (
      (await stack.query(`SELECT 1 FROM runs WHERE sweep_id = $1 AND status IN ('SUCCEEDED')`, [createSweep.id]))
        .length < 2
    ) {
      if (Date.now() > deadline) throw new Error(stack.logs());
      await new Promise((r) => setTimeout(r, 100));
    }
    await stack.stopWorker(stack.workers[0], 'SIGKILL');
    await stack.stopApi('SIGKILL');
    await stack.startApi();
    await stack.startWorker();
    const finish = Date.now() + 180_000;
    for (;;) {
      const { sweep } = await stack.gqlOk(SWEEP, { id: createSweep.id });
      if (sweep.status !== 'RUNNING') {
        expect(sweep.status).toBe('SUCCEEDED');
        expect(sweep.runs).toHaveLength(6);
        expect(sweep.runs.every((r: { status: string }) => r.status === 'SUCCEEDED')).toBe(true);
        break;
      }
      if (Date.now() > finish) throw new Error(stack.logs());
      await new Promise((r) => setTimeout(r, 250));
    }
    const indexes = await stack.query<{ trial_index: number }>(
      'SELECT trial_index FROM runs WHERE sweep_id = $1 ORDER BY trial_index',
      [createSweep.id],
    );
    expect(indexes.map((row) => row.trial_index)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
