/**
 * The model-based strategies through the API on real data (vega-datasets cars, regressing miles per gallon):
 * multivariate TPE and GP sweeps that survive a SIGKILL of the API and the worker mid-sweep and continue
 * exactly (every trial is the pure suggestion for the trials before it), `options` validation, and
 * `Sweep.importance` once 10 trials have finished.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ABOVE_KERNELS,
  GP_MAX_TRIALS,
  type SearchSpace,
  type Strategy,
  suggest,
  suggestOptions,
  TUNED_JOINT_ESTIMATOR,
} from '#libs/pure/search';

import { carsCsv } from './support/fixtures.js';
import { CREATE_MODEL } from './support/graphql.js';
import { TestStack } from './support/stack.js';

const CREATE_SWEEP = `mutation($input: CreateSweepInput!) { createSweep(input: $input) { id status strategy } }`;
const SWEEP =
  `query($id: ID!) { sweep(id: $id) { id status error importance searchSpace runs { id status hyperparameters ` +
  `summary } bestRun { summary } } }`;

const MPG_MLP = {
  layers: [
    { type: 'dense', units: '$hidden', activation: '$activation' },
    { type: 'dense', units: 1 },
  ],
  loss: 'meanSquaredError',
  optimizer: { type: 'adam', learningRate: '$lr' },
};
const SPACE: SearchSpace = {
  hidden: { type: 'int', min: 4, max: 32, step: 4 },
  lr: { type: 'loguniform', min: 0.003, max: 0.1 },
  activation: { type: 'choice', values: ['relu', 'tanh'] },
};
const TRAINING = { target: 'Miles_per_Gallon', epochs: 30, batchSize: 32, seed: 1 };

describe('TPE and GP sweeps on cars (MPG) across a restart of the API and the worker', () => {
  const stack = new TestStack({ WORKER_HEARTBEAT_TIMEOUT: '2000', WORKER_HEARTBEAT_INTERVAL: '300' });
  let datasetId: string;
  let modelId: string;

  beforeAll(async () => {
    await stack.start({ workers: 1 });
    datasetId = (await stack.upload(carsCsv(), 'cars.csv')).body.id;
    modelId = (await stack.gqlOk(CREATE_MODEL, { input: { name: 'mpg', spec: MPG_MLP } })).createModel.id;
  });
  afterAll(() => stack.stop());

  /** A createSweep input over the cars dataset and model minimising val_loss over SPACE; `fields` add or replace. */
  const sweepInput = (fields: Record<string, unknown>) => ({
    datasetId,
    modelId,
    searchSpace: SPACE,
    objective: { metric: 'val_loss', goal: 'MINIMIZE' },
    training: TRAINING,
    ...fields,
  });

  async function waitFor(id: string, timeoutMs = 120_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { sweep } = await stack.gqlOk(SWEEP, { id });
      if (sweep.status !== 'RUNNING') return sweep;
      if (Date.now() > deadline) throw new Error(`sweep still RUNNING\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it.each([
    ['TPE', { multivariate: true, nStartupTrials: 2 }],
    ['GP', { nStartupTrials: 2 }],
  ] as const)('%s: a sweep killed mid-way continues exactly and regresses MPG', async (strategy, options) => {
    const maxTrials = 4;
    const seed = 17;
    const { createSweep } = await stack.gqlOk(CREATE_SWEEP, {
      input: sweepInput({
        name: `cars-${strategy}`,
        strategy,
        options,
        maxTrials,
        parallelism: 1,
        seed,
      }),
    });
    expect(createSweep.strategy).toBe(strategy);
    const stored = await stack.query<{ options: unknown }>('SELECT options FROM sweeps WHERE id = $1', [
      createSweep.id,
    ]);
    // resolved on creation: a later change of a default never changes what this sweep suggests
    expect(stored[0]!.options).toEqual(
      strategy === 'TPE'
        ? { ...options, nEiCandidates: 24, ...TUNED_JOINT_ESTIMATOR, aboveKernels: ABOVE_KERNELS }
        : options,
    );
    // kill both processes once the model-based phase has started (trial 2 asked)
    const deadline = Date.now() + 90_000;
    while ((await stack.query('SELECT 1 FROM runs WHERE sweep_id = $1', [createSweep.id])).length < 3) {
      if (Date.now() > deadline) throw new Error(stack.logs());
      await new Promise((r) => setTimeout(r, 100));
    }
    await stack.stopWorker(stack.workers[0]!, 'SIGKILL');
    await stack.stopApi('SIGKILL');
    await stack.startApi();
    await stack.startWorker();
    const sweep = await waitFor(createSweep.id);
    expect(sweep.status).toBe('SUCCEEDED');
    expect(sweep.runs).toHaveLength(maxTrials);
    expect(sweep.runs.every((r: { status: string }) => r.status === 'SUCCEEDED')).toBe(true);
    // parallelism 1: trial i was asked with trials 0..i−1 finished, so it must be the pure suggestion for them
    // (over the space as stored: JSONB orders the keys its own way, and that order is what the scheduler sees)
    const space = sweep.searchSpace as SearchSpace;
    for (let i = 0; i < maxTrials; i++) {
      const history = sweep.runs.slice(0, i).map((r: Record<string, any>, index: number) => ({
        index,
        params: r.hyperparameters,
        state: 'complete' as const,
        value: r.summary.val_loss as number,
      }));
      const expected = suggest({
        strategy: strategy as Strategy,
        space,
        goal: 'MINIMIZE',
        seed,
        trialIndex: i,
        history,
        maxTrials,
        ...suggestOptions(strategy, stored[0]!.options),
      });
      expect(sweep.runs[i].hyperparameters).toEqual(expected);
    }
    // MPG has a variance of ~61 (mpg²); a trained network explains most of it
    expect(sweep.bestRun.summary.val_loss).toBeLessThan(25);
    expect(sweep.importance).toBeNull(); // 4 < 10 finished trials
  });

  it.each([
    ['TPE', { multivariate: 'yes' }, /options\.multivariate must be true or false/],
    ['TPE', { nEiCandidates: 0 }, /options\.nEiCandidates must be an integer between 1 and 1000/],
    [
      'TPE',
      { gamma: 0.2 },
      'options.gamma is not an option of TPE (it takes: multivariate, nStartupTrials, nEiCandidates, bandwidth, ' +
        'magicClipExponent, minBandwidthFactor, improvementWeights, sharpLiar, aboveKernels)',
    ],
    ['TPE', { bandwidth: 'wide' }, /options\.bandwidth must be "scott" or "neighbours", got "wide"/],
    ['GP', { nStartupTrials: 99 }, /options\.nStartupTrials must be an integer between 1 and 5/],
    ['RANDOM', { multivariate: true }, /options\.multivariate: strategy RANDOM takes no options/],
    ['GP', [1, 2], /options must be an object, got an array/],
  ])('refuses %s options %j with BAD_USER_INPUT, writing nothing', async (strategy, options, message) => {
    const before = await stack.counts();
    const result = await stack.gql(CREATE_SWEEP, {
      input: sweepInput({ name: 'bad', strategy, options, maxTrials: 5 }),
    });
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(message);
    expect(await stack.counts()).toEqual(before);
  });

  it('refuses a GP sweep longer than GP_MAX_TRIALS, naming maxTrials and TPE, writing nothing', async () => {
    const before = await stack.counts();
    const input = sweepInput({ name: 'long-gp', strategy: 'GP', maxTrials: GP_MAX_TRIALS + 1 });
    const result = await stack.gql(CREATE_SWEEP, { input });
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toBe(
      `maxTrials: a GP sweep takes at most ${GP_MAX_TRIALS} trials (each suggestion refits the Gaussian process on ` +
        `every finished trial, which grows with their cube); use TPE for longer sweeps, got ${GP_MAX_TRIALS + 1}`,
    );
    expect(await stack.counts()).toEqual(before);
    // TPE takes the same sweep.
    const tpe = await stack.gqlOk(CREATE_SWEEP, { input: { ...input, strategy: 'TPE', parallelism: 1 } });
    await stack.gqlOk(`mutation($id: ID!) { cancelSweep(id: $id) { id } }`, { id: tpe.createSweep.id });
  });

  it('reports PED-ANOVA importance summing to 1 over the parameters once 10 trials have finished', async () => {
    const { createSweep } = await stack.gqlOk(CREATE_SWEEP, {
      input: sweepInput({
        name: 'cars-importance',
        strategy: 'RANDOM',
        maxTrials: 10,
        parallelism: 2,
        training: { ...TRAINING, epochs: 4 },
        seed: 3,
      }),
    });
    const sweep = await waitFor(createSweep.id);
    expect(sweep.status).toBe('SUCCEEDED');
    expect(Object.keys(sweep.importance).sort()).toEqual(['activation', 'hidden', 'lr']);
    expect(Object.values(sweep.importance as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    for (const share of Object.values(sweep.importance as Record<string, number>))
      expect(share).toBeGreaterThanOrEqual(0);
  });
});
