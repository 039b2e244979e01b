import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { irisCsv } from './support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP, RUN_FIELDS, START_RUN } from './support/graphql.js';
import { TestStack } from './support/stack.js';

describe('datasets → model → run → metrics, checkpoints and predictions (Iris, over HTTP)', () => {
  const stack = new TestStack();
  let datasetId: string;
  let modelId: string;
  let runId: string;

  beforeAll(async () => {
    await stack.start();
    await tf.setBackend('cpu');
  });
  afterAll(() => stack.stop());

  it('uploads the Iris CSV and answers with its columns, types and statistics', async () => {
    const { status, body } = await stack.upload(irisCsv(), 'iris.csv', { name: 'iris' });
    expect(status).toBe(201);
    expect(body).toMatchObject({ name: 'iris', format: 'csv', status: 'READY', rowCount: 150 });
    datasetId = body.id;
    const species = body.columns.find((c: { name: string }) => c.name === 'Species');
    expect(species).toMatchObject({ type: 'STRING', missing: 0, distinct: 3, min: null, mean: null });
    const petal = body.columns.find((c: { name: string }) => c.name === 'Petal Length (cm)');
    expect(petal).toMatchObject({ type: 'NUMBER', missing: 0, min: 1, max: 6.9 });
    expect(petal.mean).toBeCloseTo(3.758, 3);
    const download = await fetch(`${stack.url}/v1/datasets/${datasetId}/download`);
    expect(await download.text()).toBe(irisCsv());
  });

  it('creates a versioned model', async () => {
    const first = await stack.gqlOk(CREATE_MODEL, { input: { name: 'iris-mlp', spec: IRIS_MLP } });
    const second = await stack.gqlOk(CREATE_MODEL, { input: { name: 'iris-mlp', spec: IRIS_MLP } });
    expect(first.createModel.version).toBe(1);
    expect(second.createModel.version).toBe(2);
    expect(second.createModel.spec).toEqual(IRIS_MLP);
    modelId = second.createModel.id;
  });

  it('trains a queued run to val_accuracy ≥ 0.9 and keeps its metric series and checkpoints', async () => {
    const { startRun } = await stack.gqlOk(START_RUN, {
      input: {
        datasetId,
        modelId,
        hyperparameters: { hidden: 16, lr: 0.02 },
        training: {
          target: 'Species',
          epochs: 40,
          batchSize: 16,
          validationSplit: 0.2,
          seed: 7,
          checkpoint: { every: 5, keep: 2, monitor: 'val_accuracy' },
        },
      },
    });
    expect(startRun.status).toBe('QUEUED');
    expect(startRun.training).toMatchObject({
      target: 'Species',
      missing: 'drop',
      normalize: 'standard',
      shuffle: true,
    });
    expect(startRun.training.features).toEqual([
      'Sepal Length (cm)',
      'Sepal Width (cm)',
      'Petal Length (cm)',
      'Petal Width (cm)',
    ]);
    runId = startRun.id;
    const run = await stack.waitForRun(runId, ['SUCCEEDED', 'FAILED']);
    expect(run.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.device).toBe('wasm');
    expect(run.epochsCompleted).toBe(40);
    expect(run.summary.val_accuracy).toBeGreaterThanOrEqual(0.9);

    const { run: detail } = await stack.gqlOk(
      `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} dataset { id } model { id version }
         metrics { name points { step epoch value timestamp } }
         only: metrics(names: ["val_accuracy"]) { name points { step value } }
         checkpoints { id epoch metrics sizeBytes modelUrl }
         bestCheckpoint { id epoch metrics modelUrl } } }`,
      { id: runId },
    );
    expect(detail.dataset.id).toBe(datasetId);
    expect(detail.model.id).toBe(modelId);
    const names = detail.metrics.map((series: { name: string }) => series.name).sort();
    expect(names).toEqual(['accuracy', 'loss', 'lr', 'val_accuracy', 'val_loss']);
    for (const series of detail.metrics) {
      expect(series.points.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }
    expect(detail.only).toHaveLength(1);
    expect(detail.only[0].points.at(-1).value).toBe(run.summary.val_accuracy);
    // Every 5 epochs, the best 2 by val_accuracy kept plus the latest.
    expect(detail.checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(detail.checkpoints.length).toBeLessThanOrEqual(3);
    expect(detail.checkpoints.every((c: { epoch: number }) => c.epoch % 5 === 0)).toBe(true);
    expect(detail.checkpoints.map((c: { epoch: number }) => c.epoch)).toContain(40);
    const bestValue = Math.max(
      ...detail.checkpoints.map((c: { metrics: { val_accuracy: number } }) => c.metrics.val_accuracy),
    );
    expect(detail.bestCheckpoint.metrics.val_accuracy).toBe(bestValue);
    const rows = await stack.query<{ n: string }>('SELECT count(*) AS n FROM metric_points WHERE run_id = $1', [runId]);
    expect(Number(rows[0].n)).toBe(5 * 40);
  });

  it('serves the best checkpoint in TF.js layers format, and predict agrees with it on raw rows', async () => {
    const { run } = await stack.gqlOk(`query($id: ID!) { run(id: $id) { bestCheckpoint { modelUrl } } }`, {
      id: runId,
    });
    const url = `${stack.url}${run.bestCheckpoint.modelUrl}`;
    const modelJson = await (await fetch(url)).json();
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    const preprocessing = modelJson.userDefinedMetadata.preprocessing;
    expect(preprocessing.target.labels).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(preprocessing.features.map((f: { name: string }) => f.name)).toEqual([
      'Sepal Length (cm)',
      'Sepal Width (cm)',
      'Petal Length (cm)',
      'Petal Width (cm)',
    ]);

    const model = await tf.loadLayersModel(url);
    const rows = [
      { 'Sepal Length (cm)': '5.1', 'Sepal Width (cm)': 3.5, 'Petal Length (cm)': 1.4, 'Petal Width (cm)': 0.2 },
      { 'Sepal Length (cm)': 6.7, 'Sepal Width (cm)': 3.0, 'Petal Length (cm)': 5.2, 'Petal Width (cm)': 2.3 },
      { 'Sepal Length (cm)': 5.9, 'Sepal Width (cm)': 'NA', 'Petal Length (cm)': 4.2, 'Petal Width (cm)': 1.3 },
    ];
    const { predict } = await stack.gqlOk(
      `query($runId: ID!, $rows: [JSON!]!) { predict(runId: $runId, rows: $rows) }`,
      { runId, rows },
    );
    expect(predict.map((p: { prediction: string }) => p.prediction)).toEqual(['setosa', 'virginica', 'versicolor']);

    // The same preprocessing by hand from the served metadata, then the loaded model.
    const encoded = rows.map((row) =>
      preprocessing.features.map((f: { name: string; fill: number; shift: number; scale: number }) => {
        const raw = Number((row as Record<string, unknown>)[f.name]);
        return ((Number.isNaN(raw) ? f.fill : raw) - f.shift) / f.scale;
      }),
    );
    const probabilities = (model.predict(tf.tensor2d(encoded)) as tf.Tensor2D).arraySync();
    probabilities.forEach((row, index) => {
      preprocessing.target.labels.forEach((label: string, c: number) => {
        expect(predict[index].probabilities[label]).toBeCloseTo(row[c], 5);
      });
    });
  });

  it('refuses bad predict input naming the row and column', async () => {
    const query = `query($runId: ID!, $rows: [JSON!]!) { predict(runId: $runId, rows: $rows) }`;
    const wrongType = await stack.gql(query, { runId, rows: [{ 'Sepal Length (cm)': 'long' }] });
    expect(wrongType.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(wrongType.errors?.[0].message).toBe('rows[0].Sepal Length (cm) must be a number, got "long"');
    const notObject = await stack.gql(query, { runId, rows: [[1, 2, 3]] });
    expect(notObject.errors?.[0].message).toBe('rows[0] must be an object of feature columns');
    const tooMany = await stack.gql(query, { runId, rows: Array.from({ length: 10_001 }, () => ({})) });
    expect(tooMany.errors?.[0].message).toMatch(/at most 10000 rows per predict call, got 10001/);
    const unknown = await stack.gql(query, { runId: '00000000-0000-4000-8000-000000000000', rows: [{}] });
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses to delete a dataset that runs use, and deletes an unused one with its file', async () => {
    const used = await stack.gql(`mutation($id: ID!) { deleteDataset(id: $id) }`, { id: datasetId });
    expect(used.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(used.errors?.[0].message).toMatch(/is used by 1 run\(s\) and 0 sweep\(s\)/);
    const spare = (await stack.upload('a,b\n1,x\n2,y\n', 'spare.csv')).body.id;
    expect((await stack.gqlOk(`mutation($id: ID!) { deleteDataset(id: $id) }`, { id: spare })).deleteDataset).toBe(
      true,
    );
    expect((await stack.gqlOk(`query($id: ID!) { dataset(id: $id) { id } }`, { id: spare })).dataset).toBeNull();
    expect((await fetch(`${stack.url}/v1/datasets/${spare}/download`)).status).toBe(404);
  });

  it('lists runs by status and streams nothing half-written for an unknown run', async () => {
    const { runs } = await stack.gqlOk(`{ runs(status: SUCCEEDED) { id } }`);
    expect(runs.map((r: { id: string }) => r.id)).toContain(runId);
    const missing = await stack.gql(`{ run(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(missing.data?.run).toBeNull();
    const cancel = await stack.gql(`mutation { cancelRun(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(cancel.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(cancel.errors?.[0].message).toContain('run "00000000-0000-4000-8000-000000000000" not found');
  });
});
