/**
 * Per-kernel time of the engine's training step on the wasm backend (self time, nested kernel calls excluded).
 *
 *   npm run bench:profile -- [--model cnn|mlp|lstm] [--samples 4096] [--epochs 2] [--detail] [--ab]
 *                            [--native on|off] [--native-threads N]
 *
 * Wraps every registered wasm kernel with a timer (wasm kernels run synchronously, so wall time is kernel time),
 * trains through buildModel + trainModel like bench:train, and prints a table of ms per step by kernel, with the
 * time spent outside kernels (tape, JS glue) as "(outside kernels)". --ab alternates the native thread pool
 * off and on every epoch and reports both. --detail keys every kernel by its input shapes.
 */
import * as tf from '@tensorflow/tfjs';

import { trainModel } from '#libs/pure/training';
import { registerWasmTrainingKernels } from '#libs/pure/training';
import { setNativeKernelsEnabled } from '#libs/pure/training';
import { setNativePoolEnabled, setNativePoolThreads } from '#libs/pure/training';

import { ENGINE_BATCH, ENGINE_SPECS, type EngineModelName, engineRun } from './engine-fixture.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const modelName = arg('model', 'cnn') as EngineModelName;
if (!(modelName in ENGINE_SPECS)) throw new Error(`--model must be one of ${Object.keys(ENGINE_SPECS).join(', ')}`);
const samples = Number(arg('samples', '4096'));
const epochs = Number(arg('epochs', '2'));
const detail = argv.includes('--detail');
const batchSize = ENGINE_BATCH[modelName];

interface Stat {
  calls: number;
  ms: number;
}
let stats = new Map<string, Stat>();
// --ab: alternate the native thread pool off/on every epoch, with separate statistics for each (a same-process
// A/B: on a shared VM, separate runs minutes apart differ by more than the effect being measured).
const ab = argv.includes('--ab');
const abStats: Record<'single' | 'pool', { stats: Map<string, Stat>; ms: number; steps: number }> = {
  single: { stats: new Map(), ms: 0, steps: 0 },
  pool: { stats: new Map(), ms: 0, steps: 0 },
};
let recording = false;
const childMs: number[] = [];

function instrument(): void {
  for (const config of tf.getKernelsForBackend('wasm')) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...config,
      kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
        if (!recording) return inner(args);
        childMs.push(0);
        const t0 = performance.now();
        const out = inner(args);
        const total = performance.now() - t0;
        const nested = childMs.pop()!;
        if (childMs.length) childMs[childMs.length - 1] += total;
        const inputs = Object.values(args.inputs as Record<string, tf.TensorInfo | undefined>).filter((t) => t != null);
        const key =
          detail || name === 'BatchMatMul' || name.startsWith('Conv') || name.endsWith('Grad')
            ? `${name} ${inputs.map((t) => JSON.stringify(t!.shape)).join(' ')}`
            : name;
        const s = stats.get(key) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += total - nested;
        stats.set(key, s);
        return out;
      }) as tf.KernelFunc,
    });
  }
}

async function main(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmTrainingKernels();
  setNativeKernelsEnabled(arg('native', 'on') !== 'off');
  if (argv.includes('--native-threads')) setNativePoolThreads(Number(arg('native-threads', '1')));
  await tf.setBackend('wasm');
  await tf.ready();
  instrument();

  const { model, spec, data, training } = engineRun(modelName, samples, epochs);
  let t0 = 0;
  let t1 = 0;
  await trainModel({
    model,
    spec,
    data,
    training,
    hooks: {
      shouldStop: () => false,
      onEpoch: async (report) => {
        const now = performance.now();
        if (ab && report.epoch > 1) {
          const mode = report.epoch % 2 === 0 ? 'single' : 'pool';
          abStats[mode].ms += now - t1;
          abStats[mode].steps += samples / batchSize;
        }
        if (report.epoch === 1) {
          recording = true;
          t0 = now;
        }
        if (ab) {
          const next = (report.epoch + 1) % 2 === 0 ? 'single' : 'pool';
          setNativePoolEnabled(next === 'pool');
          stats = abStats[next].stats;
        }
        t1 = performance.now();
      },
    },
  });
  recording = false;
  if (ab) {
    for (const mode of ['single', 'pool'] as const) {
      const { stats: st, ms, steps: n } = abStats[mode];
      console.log(`${mode}: ${(ms / n).toFixed(2)} ms/step over ${n} steps`);
      for (const [k, v] of [...st.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 6)) {
        console.log(`${(v.ms / n).toFixed(3).padStart(8)} ms  ${k}`);
      }
    }
    return;
  }
  const steps = (samples / batchSize) * epochs;
  const wall = (t1 - t0) / steps;
  const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
  let inKernels = 0;
  console.log(
    `${modelName} b${batchSize}: ${wall.toFixed(2)} ms/step, ` +
      `${((samples * epochs) / ((t1 - t0) / 1000)).toFixed(0)} samples/s`,
  );
  for (const [k, s] of rows) {
    inKernels += s.ms;
    if (s.ms / steps < (argv.includes('--all') ? 0 : 0.05)) continue;
    console.log(`${(s.ms / steps).toFixed(3).padStart(8)} ms  ${(s.calls / steps).toFixed(1).padStart(5)}x  ${k}`);
  }
  console.log(`${(wall - inKernels / steps).toFixed(3).padStart(8)} ms         (outside kernels)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
