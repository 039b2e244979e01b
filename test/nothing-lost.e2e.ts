import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs';
import { createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { irisCsv } from './support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP, START_RUN } from './support/graphql.js';
import { TestStack } from './support/stack.js';

const EPOCHS = 16;

/**
 * Faults with real processes: workers killed and stopped, Redis emptied, PostgreSQL restarted,
 * the API restarted. Each ends with every run final, each metric step present once, and every
 * checkpoint loadable.
 */
describe('nothing lost', () => {
  const stack = new TestStack({ WORKER_HEARTBEAT_TIMEOUT: '2000', WORKER_HEARTBEAT_INTERVAL: '300' });
  let datasetId: string;
  let modelId: string;

  beforeAll(async () => {
    await stack.start({ workers: 0 });
    await tf.setBackend('cpu');
    datasetId = (await stack.upload(irisCsv(), 'iris.csv')).body.id;
    modelId = (await stack.gqlOk(CREATE_MODEL, { input: { name: 'mlp', spec: IRIS_MLP } })).createModel.id;
  });
  afterAll(() => stack.stop());

  // Batch size 1 makes an epoch long enough (120 steps) for a fault to land inside one.
  const start = async (epochs = EPOCHS) =>
    (
      await stack.gqlOk(START_RUN, {
        input: {
          datasetId,
          modelId,
          hyperparameters: { hidden: 16, lr: 0.005 },
          training: { target: 'Species', epochs, batchSize: 1, seed: 1 },
        },
      })
    ).startRun.id as string;

  async function waitForEpochs(id: string, epochs: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { run } = await stack.gqlOk(`query($id: ID!) { run(id: $id) { status epochsCompleted } }`, { id });
      if (run.status === 'RUNNING' && run.epochsCompleted >= epochs) return;
      if (Date.now() > deadline)
        throw new Error(`run ${id} did not reach epoch ${epochs}: ${JSON.stringify(run)}\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The end-of-test checks: final state, each step once per series, loadable checkpoints. */
  async function expectIntact(id: string, expectedEpochs = EPOCHS): Promise<Record<string, any>> {
    const { run } = await stack.gqlOk(
      `query($id: ID!) { run(id: $id) { status attempt epochsCompleted error metrics { name points { step } } ` +
        `checkpoints { id epoch modelUrl } } }`,
      { id },
    );
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(run.epochsCompleted).toBe(expectedEpochs);
    expect(run.metrics.map((s: { name: string }) => s.name).sort()).toEqual([
      'accuracy',
      'loss',
      'lr',
      'val_accuracy',
      'val_loss',
    ]);
    for (const series of run.metrics) {
      expect(
        series.points.map((p: { step: number }) => p.step),
        series.name,
      ).toEqual(Array.from({ length: expectedEpochs }, (_, i) => i + 1));
    }
    expect(run.checkpoints.length).toBeGreaterThan(0);
    for (const checkpoint of run.checkpoints) {
      const model = await tf.loadLayersModel(`${stack.url}${checkpoint.modelUrl}`);
      expect(model.outputs[0].shape).toEqual([null, 3]);
      model.dispose();
    }
    return run;
  }

  it('resumes a run from its latest checkpoint after its worker is killed mid-epoch', async () => {
    const worker = await stack.startWorker();
    const id = await start();
    await waitForEpochs(id, 3);
    await stack.stopWorker(worker, 'SIGKILL');
    const before = await stack.query<{ epoch: number }>(
      'SELECT epoch FROM checkpoints WHERE run_id = $1 ORDER BY epoch DESC LIMIT 1',
      [id],
    );
    await stack.startWorker();
    const run = await stack.waitForRun(id, ['SUCCEEDED', 'FAILED'], 120_000);
    expect(run.attempt).toBe(2);
    const resumedFrom = before[0].epoch;
    expect(resumedFrom).toBeGreaterThanOrEqual(3);
    expect(stack.workers[0].output.join('')).toContain(`resuming after epoch ${resumedFrom}`);
    await expectIntact(id);
    for (const worker of [...stack.workers]) await stack.stopWorker(worker);
  });

  it('hands a run back on SIGTERM, exits 0 within 10 s, and another worker finishes it', async () => {
    const worker = await stack.startWorker();
    const id = await start();
    await waitForEpochs(id, 2);
    const began = Date.now();
    const code = await stack.stopWorker(worker, 'SIGTERM', 10_000);
    expect(code).toBe(0);
    expect(Date.now() - began).toBeLessThan(10_000);
    const { run: handed } = await stack.gqlOk(`query($id: ID!) { run(id: $id) { status attempt epochsCompleted } }`, {
      id,
    });
    expect(handed).toMatchObject({ status: 'QUEUED', attempt: 1 });
    await stack.startWorker();
    await stack.waitForRun(id, ['SUCCEEDED', 'FAILED'], 120_000);
    const run = await expectIntact(id);
    expect(run.attempt).toBe(1);
    for (const worker of [...stack.workers]) await stack.stopWorker(worker);
  });

  it('fails a run whose worker is lost MAX_ATTEMPTS times, saying why', async () => {
    const worker = await stack.startWorker();
    const id = await start();
    await waitForEpochs(id, 1);
    await stack.stopWorker(worker, 'SIGKILL');
    await stack.startWorker({ MAX_ATTEMPTS: '1' });
    const run = await stack.waitForRun(id, ['FAILED', 'SUCCEEDED'], 60_000);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/worker training this run was lost 1 time\(s\).*MAX_ATTEMPTS/);
    for (const worker of [...stack.workers]) await stack.stopWorker(worker);
  });

  it('re-queues from PostgreSQL after Redis loses its jobs', async () => {
    const id = await start(5);
    const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`${stack.name}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    await redis.quit();
    await stack.startWorker();
    await stack.waitForRun(id, ['SUCCEEDED', 'FAILED']);
    await expectIntact(id, 5);
  });

  it('finishes a run while PostgreSQL restarts under it', async () => {
    const id = await start();
    await waitForEpochs(id, 2);
    const cluster = readdirSync('/etc/postgresql').sort().at(-1)!;
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'restart'], { stdio: 'ignore' });
    await stack.waitForHealth();
    await stack.waitForRun(id, ['SUCCEEDED', 'FAILED'], 120_000);
    await expectIntact(id);
    expect(stack.workers[0].output.join('')).toMatch(/retrying in \d+ ms|idle connection lost|heartbeat failed/);
  });

  it('keeps training while the API restarts, and subscribers reconnect and get the rest', async () => {
    if (stack.workers.length === 0) await stack.startWorker();
    // Enough epochs (~10 s) that training outlasts the API's restart and the client's reconnect by far.
    const epochs = 80;
    const id = await start(epochs);
    await waitForEpochs(id, 1);
    // A client that reconnects on its own, as graphql-ws clients are configured to in practice.
    const client = createClient({
      url: `ws://127.0.0.1:${stack.port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 30,
      retryWait: () => new Promise((r) => setTimeout(r, 300)),
      shouldRetry: () => true,
    });
    const steps = new Set<number>();
    let reconnected = 0;
    client.on('connected', () => reconnected++);
    const unsubscribe = client.subscribe<{ metricLogged: { name: string; step: number } }>(
      { query: `subscription($id: ID!) { metricLogged(runId: $id) { name step } }`, variables: { id } },
      {
        next: ({ data }) => data?.metricLogged.name === 'loss' && steps.add(data.metricLogged.step),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await new Promise((r) => setTimeout(r, 500));
    await stack.stopApi('SIGKILL');
    const stoppedAt = (
      await stack.query<{ epochs_completed: number }>('SELECT epochs_completed FROM runs WHERE id = $1', [id])
    )[0].epochs_completed;
    await new Promise((r) => setTimeout(r, 1_000));
    await stack.startApi();
    await stack.waitForRun(id, ['SUCCEEDED', 'FAILED']);
    await expectIntact(id, epochs);
    unsubscribe();
    await client.dispose();
    expect(reconnected).toBeGreaterThanOrEqual(2);
    // The last epochs, trained after the restart, reached the re-subscribed client.
    expect(steps.has(epochs)).toBe(true);
    expect(stoppedAt).toBeLessThan(epochs);
  });
});
