/**
 * The replacement WebGPU kernels (webgpu-kernels.ts) against the cpu backend. Runs wherever Dawn finds a WebGPU
 * adapter: a GPU, or lavapipe (Mesa's Vulkan on the CPU; `bash bench/gpu/lavapipe.sh` puts one in .lavapipe/,
 * used here when VK_DRIVER_FILES is unset). Skipped ONLY when no WebGPU adapter exists at all; the describe name
 * says so.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';

import { mulberry32 } from '#libs/pure/random';

import { labelledData, specRun, trainToEnd } from '../../../test/support/engine.js';
import { applyWebgpuFlags, setupWebgpu, type WebgpuSetup, webgpuTuningFromEnv } from './webgpu.js';
import { webgpuKernelStats } from './webgpu-kernels.js';

const localIcd = resolve(import.meta.dirname, '../../../.lavapipe/lvp_icd.json');
if (!process.env.VK_DRIVER_FILES && existsSync(localIcd)) process.env.VK_DRIVER_FILES = localIcd;

const tuning = webgpuTuningFromEnv(true, {});
let setup: WebgpuSetup | undefined;
try {
  setup = await setupWebgpu(tuning);
  if (setup && !(await tf.setBackend('webgpu'))) setup = undefined;
} catch {
  setup = undefined;
}
const adapterName = setup ? `${setup.adapterInfo.vendor ?? ''} ${setup.adapterInfo.description ?? ''}`.trim() : '';

afterAll(async () => {
  applyWebgpuFlags(tuning);
});

function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** dW of sum(conv2d(x, w) * dy) = conv2DBackpropFilter(x, dy), on the current backend. */
async function filterGradient(
  xShape: number[],
  wShape: number[],
  strides: number,
  pad: 'valid' | 'same',
  seed: number,
): Promise<Float32Array> {
  const x = tf.randomNormal(xShape, 0, 1, 'float32', seed).as4D(xShape[0], xShape[1], xShape[2], xShape[3]);
  const w = tf.randomNormal(wShape, 0, 1, 'float32', seed + 1).as4D(wShape[0], wShape[1], wShape[2], wShape[3]);
  const y = tf.conv2d(x, w, strides, pad);
  const dy = tf.randomNormal(y.shape, 0, 1, 'float32', seed + 2);
  const dw = tf.grad((f) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, strides, pad), dy)))(w);
  const out = (await dw.data()) as Float32Array;
  tf.dispose([x, w, y, dy, dw]);
  return out;
}

async function onBackend<T>(name: 'cpu' | 'webgpu', fn: () => Promise<T>): Promise<T> {
  await tf.setBackend(name);
  return fn();
}

const suiteName = setup
  ? `webgpu kernels vs cpu (adapter: ${adapterName})`
  : 'webgpu kernels: SKIPPED, no WebGPU adapter on this machine';
describe.skipIf(!setup)(suiteName, () => {
  it.each([
    // [x shape, filter shape, stride, pad]: the bench CNN's two convs (m split over many workgroups), stride 2 with
    // 'same' padding on odd sizes, more than 64 output channels (two lane blocks), a single image.
    [[6, 28, 28, 1], [3, 3, 1, 16], 1, 'valid'],
    [[5, 13, 13, 16], [3, 3, 16, 32], 1, 'valid'],
    [[3, 9, 11, 3], [3, 2, 3, 5], 2, 'same'],
    [[2, 6, 7, 4], [1, 1, 4, 80], 1, 'valid'],
    [[1, 5, 5, 2], [5, 5, 2, 3], 1, 'same'],
  ] as const)('Conv2DBackpropFilter x%j filter%j stride %d %s matches the cpu backend', async (xs, ws, s, p) => {
    const seed = 11 + xs[0] * 7 + ws[3];
    const expected = await onBackend('cpu', () => filterGradient([...xs], [...ws], s, p, seed));
    const before = webgpuKernelStats.conv2DBackpropFilter;
    const got = await onBackend('webgpu', () => filterGradient([...xs], [...ws], s, p, seed));
    expect(webgpuKernelStats.conv2DBackpropFilter).toBe(before + 1);
    expect(got.length).toBe(expected.length);
    expect(got.every(Number.isFinite)).toBe(true);
    expect(relativeError(got, expected)).toBeLessThan(1e-5);
  });

  it(
    'seeded CNN training on webgpu: same losses and weights ' + "with the replacement kernels as with tfjs's (1e-4)",
    async () => {
      await tf.setBackend('webgpu');
      const random = mulberry32(3);
      const pixels = Float32Array.from({ length: 48 * 144 }, random);
      const data = labelledData(
        pixels,
        Array.from({ length: 48 }, (_, i) => i % 3),
        { inputSize: 144, classes: 3 },
      );
      const spec = {
        layers: [
          { type: 'reshape', targetShape: [12, 12, 1] },
          { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
          { type: 'maxPooling2d', poolSize: 2 },
          { type: 'conv2d', filters: 6, kernelSize: 3, activation: 'relu' },
          { type: 'flatten' },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
        loss: 'sparseCategoricalCrossentropy',
        optimizer: { type: 'adam', learningRate: 0.01 },
        metrics: [],
      };
      const train = async (kernels: boolean) => {
        applyWebgpuFlags({ ...tuning, kernels });
        const run = specRun(spec, data, { epochs: 3, batchSize: 16, seed: 9 });
        const before = webgpuKernelStats.conv2DBackpropFilter;
        const { reports } = await trainToEnd(run);
        const used = webgpuKernelStats.conv2DBackpropFilter - before;
        const weights = await Promise.all(run.model.getWeights().map(async (w) => Array.from(await w.data())));
        run.model.dispose();
        return { loss: reports.map((report) => report.metrics.loss), weights: weights.flat(), used };
      };
      const ours = await train(true);
      const stock = await train(false);
      expect(ours.used).toBeGreaterThan(0);
      expect(stock.used).toBe(0);
      ours.loss.forEach((l, i) => expect(Math.abs(l - stock.loss[i])).toBeLessThan(1e-4));
      expect(ours.loss[2]).toBeLessThan(ours.loss[0]);
      const maxDiff = ours.weights.reduce((m, w, i) => Math.max(m, Math.abs(w - stock.weights[i])), 0);
      expect(maxDiff).toBeLessThan(1e-4);
    },
  );
});
