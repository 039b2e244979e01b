import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openEngine, sqlString } from '#libs/pure/data';

import { irisCsv, writeTemp } from './support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP, START_RUN } from './support/graphql.js';
import { TestStack } from './support/stack.js';

/** The real Iris rows written as Parquet by DuckDB (typed DOUBLE and VARCHAR columns). */
async function irisParquet(): Promise<Buffer> {
  const csv = writeTemp('iris-for-parquet.csv', irisCsv());
  const target = writeTemp('iris.parquet', '');
  const engine = await openEngine();
  try {
    await engine.connection.run(
      `COPY (SELECT * FROM read_csv(${sqlString(csv)})) TO ${sqlString(target)} (FORMAT parquet)`,
    );
  } finally {
    engine.close();
  }
  return readFileSync(target);
}

describe('Parquet datasets: upload, statistics, training and refusal (over HTTP)', () => {
  const stack = new TestStack();
  let parquet: Buffer;

  beforeAll(async () => {
    parquet = await irisParquet();
    await stack.start();
  });
  afterAll(() => stack.stop());

  it('answers a Parquet upload with the same columns, types and statistics as the CSV, then trains on it', async () => {
    const fromCsv = await stack.upload(irisCsv(), 'iris.csv');
    const { status, body } = await stack.upload(parquet, 'iris.parquet', { name: 'iris-parquet' });
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ format: 'parquet', status: 'READY', rowCount: 150 });
    expect(body.columns.map((c: { name: string; type: string }) => [c.name, c.type])).toEqual(
      fromCsv.body.columns.map((c: { name: string; type: string }) => [c.name, c.type]),
    );
    const species = body.columns.find((c: { name: string }) => c.name === 'Species');
    expect(species).toMatchObject({ type: 'STRING', distinct: 3, missing: 0 });
    const petal = body.columns.find((c: { name: string }) => c.name === 'Petal Length (cm)');
    expect(petal).toMatchObject({ type: 'NUMBER', min: 1, max: 6.9, missing: 0 });

    // Also from the format field, whatever the file is called.
    const named = await stack.upload(parquet, 'upload.bin', { format: 'parquet' });
    expect(named.status).toBe(201);

    const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'iris-parquet-mlp', spec: IRIS_MLP } });
    const { startRun } = await stack.gqlOk(START_RUN, {
      input: {
        datasetId: body.id,
        modelId: createModel.id,
        hyperparameters: { hidden: 16, lr: 0.02 },
        training: { target: 'Species', epochs: 30, batchSize: 16, validationSplit: 0.2, seed: 7 },
      },
    });
    const run = await stack.waitForRun(startRun.id, ['SUCCEEDED', 'FAILED'], 180_000);
    expect(run.status, run.error ?? '').toBe('SUCCEEDED');
    expect(run.summary.val_accuracy).toBeGreaterThanOrEqual(0.9);
    const { predict } = await stack.gqlOk(
      `query($runId: ID!, $rows: [JSON!]!) { predict(runId: $runId, rows: $rows) }`,
      {
        runId: startRun.id,
        rows: [
          { 'Sepal Length (cm)': 5.1, 'Sepal Width (cm)': 3.5, 'Petal Length (cm)': 1.4, 'Petal Width (cm)': 0.2 },
        ],
      },
    );
    expect(predict[0].prediction).toBe('setosa');

    const download = await fetch(`${stack.url}/v1/datasets/${body.id}/download`);
    expect(download.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    expect(Buffer.from(await download.arrayBuffer()).equals(parquet)).toBe(true);
  });

  it('refuses a corrupt Parquet file with 400 and keeps nothing', async () => {
    const before = await stack.counts();
    const corrupt = Buffer.concat([
      parquet.subarray(0, 300),
      Buffer.alloc(200, 0x41),
      parquet.subarray(parquet.length - 8),
    ]);
    const { status, body } = await stack.upload(corrupt, 'broken.parquet');
    expect(status).toBe(400);
    expect(body.message).toMatch(/Parquet/);
    const text = await stack.upload('a,b\n1,2\n', 'notes.parquet');
    expect(text.status).toBe(400);
    expect(text.body.message).toMatch(/not a readable Parquet file/);
    expect(await stack.counts()).toEqual(before);
  });
});
