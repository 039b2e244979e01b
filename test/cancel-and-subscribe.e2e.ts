import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { irisCsv } from './support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP, START_RUN } from './support/graphql.js';
import { TestStack } from './support/stack.js';

describe('cancelling runs and following them live', () => {
  const stack = new TestStack();
  let datasetId: string;
  let modelId: string;

  beforeAll(async () => {
    await stack.start();
    datasetId = (await stack.upload(irisCsv(), 'iris.csv')).body.id;
    modelId = (await stack.gqlOk(CREATE_MODEL, { input: { name: 'mlp', spec: IRIS_MLP } })).createModel.id;
  });
  afterAll(() => stack.stop());

  const start = async (epochs: number) =>
    (
      await stack.gqlOk(START_RUN, {
        input: {
          datasetId,
          modelId,
          hyperparameters: { hidden: 8, lr: 0.01 },
          training: { target: 'Species', epochs, batchSize: 8 },
        },
      })
    ).startRun.id as string;

  it('streams each epoch to metricLogged and runUpdated subscribers', async () => {
    const client = createClient({
      url: `ws://127.0.0.1:${stack.port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const runId = await start(5);
    const points: { name: string; step: number }[] = [];
    const statuses: string[] = [];
    const metrics = new Promise<void>((resolve, reject) => {
      client.subscribe<{ metricLogged: { name: string; step: number } }>(
        {
          query: `subscription($id: ID!) { metricLogged(runId: $id) { name step epoch value timestamp } }`,
          variables: { id: runId },
        },
        { next: ({ data }) => data && points.push(data.metricLogged), error: reject, complete: resolve },
      );
    });
    const updates = new Promise<void>((resolve, reject) => {
      const stop = client.subscribe<{ runUpdated: { status: string; epochsCompleted: number } }>(
        {
          query: `subscription($id: ID!) { runUpdated(id: $id) { id status epochsCompleted } }`,
          variables: { id: runId },
        },
        {
          next: ({ data }) => {
            if (!data) return;
            statuses.push(data.runUpdated.status);
            if (data.runUpdated.status === 'SUCCEEDED') {
              stop();
              resolve();
            }
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    await Promise.race([
      updates,
      metrics,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no SUCCEEDED update:\n${stack.logs()}`)), 60_000)),
    ]);
    // The subscription may have started after the first epoch: what arrived is a gap-free tail.
    const losses = points.filter((p) => p.name === 'loss').map((p) => p.step);
    expect(losses.length).toBeGreaterThan(0);
    expect(losses).toEqual(Array.from({ length: losses.length }, (_, i) => 5 - losses.length + 1 + i));
    expect(statuses.at(-1)).toBe('SUCCEEDED');
    await client.dispose();
  });

  it('cancels a running run within an epoch, and the worker takes the next job', async () => {
    const longRun = await start(5_000);
    const queuedBehind = await start(3);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { run } = await stack.gqlOk(`query($id: ID!) { run(id: $id) { status epochsCompleted } }`, { id: longRun });
      if (run.status === 'RUNNING' && run.epochsCompleted >= 2) break;
      if (Date.now() > deadline) throw new Error(`run never got going:\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { cancelRun } = await stack.gqlOk(`mutation($id: ID!) { cancelRun(id: $id) { id status } }`, { id: longRun });
    expect(['RUNNING', 'CANCELLED']).toContain(cancelRun.status);
    const cancelled = await stack.waitForRun(longRun, ['CANCELLED', 'SUCCEEDED', 'FAILED'], 30_000);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.epochsCompleted).toBeLessThan(5_000);
    expect(cancelled.error).toMatch(/cancelled after \d+ epoch/);
    const next = await stack.waitForRun(queuedBehind, ['SUCCEEDED', 'FAILED', 'CANCELLED']);
    expect(next.status).toBe('SUCCEEDED');
    const again = await stack.gql(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: longRun });
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('cancels a queued run at once', async () => {
    const blocker = await start(5_000);
    const queued = await start(3);
    const { cancelRun } = await stack.gqlOk(`mutation($id: ID!) { cancelRun(id: $id) { id status finishedAt } }`, {
      id: queued,
    });
    expect(cancelRun.status).toBe('CANCELLED');
    expect(cancelRun.finishedAt).not.toBeNull();
    await stack.gqlOk(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: blocker });
    await stack.waitForRun(blocker, ['CANCELLED']);
    const { run } = await stack.gqlOk(`query($id: ID!) { run(id: $id) { status epochsCompleted startedAt } }`, {
      id: queued,
    });
    expect(run).toMatchObject({ status: 'CANCELLED', epochsCompleted: 0, startedAt: null });
  });
});
