import './index.js';

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from '../backend.js';
import { buildModel } from '../model-builder.js';
import { resolveModelSpec } from '../model-spec.js';
import { seedInitialWeights } from '../seeding.js';
import { bundleLayersModule } from './bundle.js';

/**
 * The module GET /v1/layers.js serves, used as a browser would: a separate Node process with a fresh, stock
 * @tensorflow/tfjs imports it over HTTP-served files, calls registerLayers(tf) and loads a checkpoint of a model
 * that uses every service layer with tf.loadLayersModel(url); its predictions must equal the service's.
 */
describe('the served layers module', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let source: string;

  beforeAll(async () => {
    await selectBackend('cpu');
    source = await bundleLayersModule();
    dir = await mkdtemp(join(tmpdir(), 'layers-module-'));
    server = createServer((request, response) => {
      const files: Record<string, [string, string]> = {
        '/model.json': ['model.json', 'application/json'],
        '/weights.bin': ['weights.bin', 'application/octet-stream'],
      };
      const file = files[request.url ?? ''];
      if (!file) return void response.writeHead(404).end();
      void import('node:fs').then(({ createReadStream }) => {
        response.writeHead(200, { 'Content-Type': file[1] });
        createReadStream(join(dir, file[0])).pipe(response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('is self-contained: no import, and it exports registerLayers', () => {
    expect(source).not.toMatch(/^\s*import\b|\brequire\(|import\(/m);
    expect(source).toMatch(/export\s*\{[^}]*registerLayers/);
  });

  it('lets a fresh stock TF.js load a checkpoint and predict what the service predicts', async () => {
    const layers = [
      { type: 'tokenAndPositionEmbedding', vocabularySize: 20, sequenceLength: 8, embeddingDim: 8, maskZero: true },
      { type: 'transformerEncoder', numHeads: 2, intermediateDim: 16, normalizeFirst: true, activation: 'gelu' },
      { type: 'positionEmbedding', sequenceLength: 8 },
      { type: 'multiHeadAttention', numHeads: 2, keyDim: 3, causal: true },
      { type: 'globalAveragePooling1d' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ];
    const model = buildModel(resolveModelSpec({ layers, loss: 'sparseCategoricalCrossentropy' }, {}), 8, 3);
    seedInitialWeights(model, 4);
    // Saved as the worker saves a checkpoint (topology + weights), written as the API serves model.json / weights.bin.
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const modelJson = {
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
          format: 'layers-model',
        };
        await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
        await writeFile(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const ids = [
      [4, 9, 2, 17, 0, 0, 0, 0],
      [1, 2, 3, 4, 5, 6, 7, 8],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ];
    const expected = Array.from((model.predict(tf.tensor2d(ids)) as tf.Tensor).dataSync());
    model.dispose();

    await writeFile(join(dir, 'layers.js'), source);
    const script = `
      const tf = await import(${JSON.stringify(import.meta.resolve('@tensorflow/tfjs'))});
      await tf.setBackend('cpu');
      const before = await tf.loadLayersModel(${JSON.stringify(`${base}/model.json`)}).then(
        () => 'loaded',
        (error) => error.message,
      );
      const { registerLayers } = await import(${JSON.stringify(`file://${join(dir, 'layers.js')}`)});
      registerLayers(tf);
      const model = await tf.loadLayersModel(${JSON.stringify(`${base}/model.json`)});
      const output = model.predict(tf.tensor2d(${JSON.stringify(ids)}));
      const classes = model.layers.map((l) => l.getClassName());
      console.log(JSON.stringify({ before, classes, output: Array.from(output.dataSync()) }));
    `;
    await writeFile(join(dir, 'load.mjs'), script);
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'load.mjs')], { timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      before: string;
      classes: string[];
      output: number[];
    };
    // Without registerLayers a stock TF.js cannot load it: the classes come from the module.
    expect(result.before).toMatch(/Unknown layer: TokenAndPositionEmbedding/);
    expect(result.classes).toEqual([
      'TokenAndPositionEmbedding',
      'TransformerEncoder',
      'PositionEmbedding',
      'MultiHeadAttention',
      'MaskedGlobalAveragePooling1D',
      'Dense',
    ]);
    expect(result.output).toHaveLength(expected.length);
    result.output.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 5));
  }, 90_000);
});
