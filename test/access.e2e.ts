import { readdirSync } from 'node:fs';

import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { TestStack } from './support/stack.js';

const KEY = 'test-admin-key-123';

async function subscribeOnce(port: number, connectionParams?: Record<string, string>): Promise<'open' | string> {
  const client = createClient({
    url: `ws://127.0.0.1:${port}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams,
    lazy: false,
  });
  const result = await new Promise<string>((resolve) => {
    client.on('connected', () => resolve('open'));
    client.on('closed', (event) => resolve(`closed ${(event as { code: number }).code}`));
  });
  await client.dispose();
  return result;
}

describe('access control and limits', () => {
  const stack = new TestStack({ API_KEY: KEY, MAX_UPLOAD_BYTES: '2000' });
  const auth = { authorization: `Bearer ${KEY}` };

  beforeAll(() => stack.start({ workers: 0 }));
  afterAll(() => stack.stop());

  it('lets GET /health through without a key and nothing else', async () => {
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    const rest = await fetch(`${stack.url}/v1/datasets/00000000-0000-4000-8000-000000000000/download`);
    expect(rest.status).toBe(401);
    expect(await rest.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    const graphql = await stack.gql('{ datasets { id } }');
    expect(graphql.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const introspection = await stack.gql('{ __schema { types { name } } }');
    expect(introspection.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await fetch(`${stack.url}/metrics`)).status).toBe(401);
    const wrong = await stack.gql('{ datasets { id } }', {}, { authorization: 'Bearer nope' });
    expect(wrong.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an upload without a key before reading its body', async () => {
    const { status } = await stack.upload('a,b\n1,2\n', 'x.csv');
    expect(status).toBe(401);
    expect(readdirSync(`${stack.dataDir}/uploads`)).toEqual([]);
    expect((await stack.counts()).datasets).toBe(0);
  });

  it('accepts the key on REST and GraphQL, and keys created through the API until revoked', async () => {
    const ok = await stack.upload('a,b\n1,2\n', 'x.csv', {}, auth);
    expect(ok.status).toBe(201);
    const created = await stack.gql(`mutation { createApiKey(name: "ci") { id name key prefix } }`, {}, auth);
    const { id, key, prefix } = created.data!.createApiKey;
    expect(key.startsWith(prefix)).toBe(true);
    const stored = await stack.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [id]);
    expect(stored[0].key_hash).not.toContain(key);
    expect(stored[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    const withNewKey = await stack.gql('{ datasets { id } }', {}, { authorization: `Bearer ${key}` });
    expect(withNewKey.data?.datasets).toHaveLength(1);
    await stack.gql(`mutation($id: ID!) { revokeApiKey(id: $id) }`, { id }, auth);
    const revoked = await stack.gql('{ datasets { id } }', {}, { authorization: `Bearer ${key}` });
    expect(revoked.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('checks graphql-ws connections at connect', async () => {
    expect(await subscribeOnce(stack.port)).toMatch(/^closed 4403/);
    expect(await subscribeOnce(stack.port, { Authorization: `Bearer ${KEY}` })).toBe('open');
  });

  it('answers an upload over MAX_UPLOAD_BYTES with 413', async () => {
    const big = `a,b\n${'1,2\n'.repeat(1000)}`;
    const { status, body } = await stack.upload(big, 'big.csv', {}, auth);
    expect(status).toBe(413);
    expect(body.statusCode).toBe(413);
    expect((await stack.counts()).datasets).toBe(1);
  });

  it('refuses queries too deep or too expensive, and stays up', async () => {
    const everything = await stack.gql('{ runs { metrics { name points { step value timestamp } } } }', {}, auth);
    expect(everything.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(everything.errors?.[0].message).toMatch(/too expensive/);
    const deep = await stack.gql(
      '{ runs { sweep { runs { sweep { runs { sweep { runs { sweep { runs { sweep { id } } } } } } } } } } }',
      {},
      auth,
    );
    expect(deep.errors?.[0].message).toMatch(/levels deep/);
    const oversized = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ datasets { id } } #${'x'.repeat(17 * 1024 * 1024)}` }),
    });
    expect(oversized.status).toBe(413);
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  });

  it('serves Prometheus metrics', async () => {
    const text = await (await fetch(`${stack.url}/metrics`, { headers: auth })).text();
    for (const name of [
      'trainer_runs',
      'trainer_queue_depth',
      'trainer_job_wait_seconds',
      'trainer_epoch_duration_seconds',
      'trainer_metric_points_written_total',
      'trainer_http_request_duration_seconds',
      'trainer_graphql_operation_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toMatch(
      /trainer_http_request_duration_seconds_count\{method="POST",route="\/v1\/datasets",status="201"\} 1/,
    );
  });
});
