/**
 * Per-step overhead probe for the webgpu backend (run on a GPU machine, see bench/gpu/README).
 *
 *   node .carry/probe.mjs [--quick]       (Dawn toggles from TRAINING_WEBGPU_DAWN_TOGGLES / the default tuning)
 *
 * Prints one JSON line per measurement (prefix `PROBE `) and a summary table:
 *  - raw Dawn: cost of an empty queue.submit, of a trivial dispatch (bind group + dispatch) recorded in one pass,
 *    onSubmittedWorkDone and mapAsync round-trip latency (how fast dawn.node resolves GPU promises);
 *  - tfjs: 1000 small element-wise ops, enqueue time and time to the result, per submit batch size;
 *  - training: ms/step for the MLP (batch 128..1024) and CNN (64, 256) with the engine (trainModel, the worker's loop)
 *    and with model.fit, with the stock tfjs settings and with the tuning (submit batch, fused Adam), plus dispatches
 *    and uploads per step;
 *  - --timeline: a per-kernel GPU timeline of the engine's training step (trainModel, as bench:train runs it) for
 *    the MLP and the CNN at batch 128 and 1024, with and without the replacement kernels (webgpu-kernels.ts):
 *    tf.profile with timestamp queries (one compute pass per kernel, Dawn's timestamp quantization off), summed per
 *    tfjs kernel per step, against the step's wall time without profiling. The fused Adam dispatch is not a tfjs
 *    kernel and is not in the GPU sum; the gap between wall time and GPU sum is per-kernel overhead plus Adam.
 *    `--timeline-only` skips everything else.
 */
import * as tf from '@tensorflow/tfjs';

import {
  applyWebgpuFlags,
  fusedAdamStats,
  setupWebgpu,
  type WebgpuTuning,
  webgpuTuningFromEnv,
} from '#libs/pure/training';

import { trainToEnd } from '../../test/support/engine.js';
import { type EngineModelName, engineRun, timedEngineRun, timedModelFit } from '../engine-fixture.js';

const quick = process.argv.includes('--quick');
const timelineOnly = process.argv.includes('--timeline-only');
const withTimeline = timelineOnly || process.argv.includes('--timeline');
const results: Record<string, unknown>[] = [];
function report(r: Record<string, unknown>): void {
  results.push(r);
  console.log('PROBE ' + JSON.stringify(r));
}
const now = () => performance.now();

async function rawDawn(device: GPUDevice): Promise<void> {
  const q = device.queue;
  // Empty submits.
  for (let i = 0; i < 50; i++) q.submit([device.createCommandEncoder().finish()]);
  await q.onSubmittedWorkDone();
  let t0 = now();
  const N = 1000;
  for (let i = 0; i < N; i++) q.submit([device.createCommandEncoder().finish()]);
  const tSubmit = (now() - t0) / N;
  t0 = now();
  await q.onSubmittedWorkDone();
  report({ probe: 'raw.emptySubmit', usPerSubmit: tSubmit * 1000, drainMs: now() - t0 });

  // Trivial dispatches: a fresh uniform write + bind group per dispatch (what tfjs does), one pass.
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> a: array<f32>;
           @group(0) @binding(1) var<uniform> u: vec4<f32>;
           @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
             if (g.x < arrayLength(&a)) { a[g.x] = a[g.x] + u.x; } }`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buf = device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const ubufs = Array.from({ length: 64 }, () =>
    device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }),
  );
  const layout = pipeline.getBindGroupLayout(0);
  const run = (n: number, perSubmit: number, cachedBindGroup: boolean) => {
    const bg0 = device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: buf } },
        { binding: 1, resource: { buffer: ubufs[0] } },
      ],
    });
    let enc = device.createCommandEncoder();
    let pass = enc.beginComputePass();
    for (let i = 0; i < n; i++) {
      const ub = ubufs[i % 64];
      q.writeBuffer(ub, 0, new Float32Array([1, 0, 0, 0]));
      const bg = cachedBindGroup
        ? bg0
        : device.createBindGroup({
            layout: pipeline.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: buf } },
              { binding: 1, resource: { buffer: ub } },
            ],
          });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(16);
      if ((i + 1) % perSubmit === 0) {
        pass.end();
        q.submit([enc.finish()]);
        enc = device.createCommandEncoder();
        pass = enc.beginComputePass();
      }
    }
    pass.end();
    q.submit([enc.finish()]);
  };
  for (const [perSubmit, cached] of [
    [15, false],
    [1000, false],
    [1000, true],
    [1, false],
  ] as const) {
    run(200, perSubmit, cached);
    await q.onSubmittedWorkDone();
    t0 = now();
    const n = 2000;
    run(n, perSubmit, cached);
    const enq = now() - t0;
    await q.onSubmittedWorkDone();
    report({
      probe: 'raw.dispatch',
      perSubmit,
      cachedBindGroup: cached,
      usPerDispatchEnqueue: (enq * 1000) / n,
      usPerDispatchTotal: ((now() - t0) * 1000) / n,
    });
  }

  // Round trips: onSubmittedWorkDone and a 4-byte mapAsync read-back.
  const lat: number[] = [];
  for (let i = 0; i < 20; i++) {
    t0 = now();
    q.submit([device.createCommandEncoder().finish()]);
    await q.onSubmittedWorkDone();
    lat.push(now() - t0);
  }
  const rb = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const map: number[] = [];
  for (let i = 0; i < 20; i++) {
    t0 = now();
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(buf, 0, rb, 0, 4);
    q.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    rb.unmap();
    map.push(now() - t0);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  report({
    probe: 'raw.roundTrip',
    workDoneMsMedian: med(lat),
    mapAsyncMsMedian: med(map),
    mapAsyncMs: map.map((x) => +x.toFixed(2)),
  });
}

async function tfjsSmallOps(): Promise<void> {
  for (const sb of [15, 1000]) {
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', sb);
    const a = tf.tidy(() => tf.add(tf.randomUniform([1024]), 0)); // lives on the GPU
    await a.data();
    const n = 1000;
    const loop = () =>
      tf.tidy(() => {
        let x = a;
        for (let i = 0; i < n; i++) x = tf.relu(tf.add(x, a));
        return tf.sum(x);
      });
    await loop().data();
    const t0 = now();
    const s = loop();
    const enq = now() - t0;
    await s.data();
    report({
      probe: 'tfjs.smallOps',
      submitBatch: sb,
      ops: 2 * n,
      usPerOpEnqueue: (enq * 1000) / (2 * n),
      usPerOpTotal: ((now() - t0) * 1000) / (2 * n),
    });
    s.dispose();
    a.dispose();
  }
  // Data-dependent read-back latency through tfjs.
  const x = tf.tidy(() => tf.add(tf.randomUniform([16]), 0));
  const lat: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = now();
    const y = tf.mul(x, 2);
    await y.data();
    y.dispose();
    lat.push(now() - t0);
  }
  report({ probe: 'tfjs.readback', msMedian: [...lat].sort((p, q) => p - q)[10] });
  x.dispose();
}

/** Counts dispatches and CPU->GPU uploads by wrapping the backend instance's methods. */
function instrument(): { dispatches: number; uploads: number } {
  const c = { dispatches: 0, uploads: 0 };
  const b = tf.backend() as unknown as {
    recordAndSubmit: (...a: unknown[]) => unknown;
    uploadToGPU: (id: object) => unknown;
    tensorMap: { get(id: object): { resource?: unknown; values?: unknown } };
    __instrumented?: boolean;
  };
  if (!b.__instrumented) {
    const rec = b.recordAndSubmit;
    b.recordAndSubmit = function (this: unknown, ...a: unknown[]) {
      c.dispatches++;
      return rec.apply(this, a);
    };
    const up = b.uploadToGPU;
    b.uploadToGPU = function (this: typeof b, id: object) {
      const d = this.tensorMap.get(id);
      if (d && d.resource == null && d.values != null) c.uploads++;
      return up.call(this, id);
    };
    b.__instrumented = true;
    (globalThis as unknown as { __probeCounters: typeof c }).__probeCounters = c;
  }
  return (globalThis as unknown as { __probeCounters: typeof c }).__probeCounters;
}

type Fit = 'engine' | 'model';

async function trainSteps(label: string, name: 'mlp' | 'cnn', batch: number, fit: Fit, steps: number): Promise<void> {
  const epochs = 2;
  const run = engineRun(name, batch * steps, epochs, batch); // one warm-up epoch, then `epochs` timed
  const c = instrument();
  let d0 = 0;
  let u0 = 0;
  let f0 = 0;
  const warmedUp = () => {
    d0 = c.dispatches;
    u0 = c.uploads;
    f0 = fusedAdamStats.fusedSteps;
  };
  const timed = fit === 'engine' ? timedEngineRun : timedModelFit;
  const { samplesPerSec, loss } = await timed(run, warmedUp);
  // Counted to the end of training: the engine's last epoch also takes its checkpoint (one read-back).
  const timedSteps = epochs * steps;
  report({
    probe: 'train',
    label,
    model: name,
    batch,
    fit,
    msPerStep: (batch * 1000) / samplesPerSec,
    samplesPerSec,
    dispatchesPerStep: (c.dispatches - d0) / timedSteps,
    uploadsPerStep: (c.uploads - u0) / timedSteps,
    fusedAdamSteps: fusedAdamStats.fusedSteps - f0,
    loss,
    numTensors: tf.memory().numTensors,
  });
  run.model.dispose();
}

/** Per-kernel GPU time of the engine's training step (see the header). */
async function timeline(label: string, name: EngineModelName, batch: number, steps: number): Promise<void> {
  const run = engineRun(name, batch * steps, 1, batch); // one warm-up + one timed epoch of `steps` steps
  const train = () => trainToEnd(run);
  await train();
  const t0 = now();
  await train();
  const wallMsPerStep = (now() - t0) / (2 * steps);
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const profile = await tf.profile(() => train().then(() => 0));
  run.model.dispose();
  const byKernel = new Map<string, { calls: number; ms: number; programs: Set<string> }>();
  for (const k of profile.kernels) {
    const e = byKernel.get(k.name) ?? { calls: 0, ms: 0, programs: new Set<string>() };
    e.calls++;
    e.ms += Number(k.kernelTimeMs) || 0;
    for (const p of String(k.extraInfo ?? '').split(', ')) if (p) e.programs.add(p.split(':')[0]);
    byKernel.set(k.name, e);
  }
  const perStep = 2 * steps;
  const kernels = [...byKernel.entries()]
    .map(([kernel, e]) => ({
      kernel,
      callsPerStep: e.calls / perStep,
      gpuMsPerStep: e.ms / perStep,
      programs: [...e.programs],
    }))
    .sort((a, b) => b.gpuMsPerStep - a.gpuMsPerStep);
  const gpuMsPerStep = kernels.reduce((a, k) => a + k.gpuMsPerStep, 0);
  const kernelsPerStep = kernels.reduce((a, k) => a + k.callsPerStep, 0);
  report({ probe: 'timeline', label, model: name, batch, wallMsPerStep, gpuMsPerStep, kernelsPerStep, kernels });
  console.log(
    `\n${label} ${name} b${batch}: wall ${wallMsPerStep.toFixed(2)} ms/step, GPU (tfjs kernels) ` +
      `${gpuMsPerStep.toFixed(2)} ms/step in ${kernelsPerStep.toFixed(0)} kernels`,
  );
  for (const k of kernels.slice(0, 12)) {
    const calls = k.callsPerStep.toFixed(1).padStart(5);
    console.log(
      `  ${k.kernel.padEnd(28)} ${calls}x ${k.gpuMsPerStep.toFixed(3).padStart(8)} ms  ${k.programs.join(',')}`,
    );
  }
}

async function main(): Promise<void> {
  const tuning = webgpuTuningFromEnv(true);
  // Dawn quantizes timestamps by default (a browser's timing-attack guard); the timeline needs them exact.
  const setup = await setupWebgpu(tuning, withTimeline ? ['disable-dawn-features=timestamp_quantization'] : []);
  if (!setup) throw new Error('no WebGPU adapter');
  if (!(await tf.setBackend('webgpu'))) throw new Error('setBackend(webgpu) failed');
  await tf.ready();
  report({ probe: 'adapter', ...setup.adapterInfo, dawnToggles: tuning.dawnToggles });
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  report({ probe: 'timestampQuery', supported: device.features.has('timestamp-query') });
  if (withTimeline) {
    const steps = quick ? 6 : 12;
    // PROBE_TIMELINE_KERNELS=on: only with the replacement kernels (default: without, then with).
    for (const kernels of process.env.PROBE_TIMELINE_KERNELS === 'on' ? [true] : [false, true]) {
      applyWebgpuFlags({ ...tuning, kernels });
      // PROBE_TIMELINE=mlp:128,cnn:128 picks the runs (default: both models at 128 and 1024).
      const runs = (process.env.PROBE_TIMELINE ?? 'mlp:128,mlp:1024,cnn:128,cnn:1024')
        .split(',')
        .map((r) => r.split(':'))
        .map(([m, b]) => [m as EngineModelName, Number(b)] as const);
      for (const [m, b] of runs) {
        try {
          await timeline(kernels ? 'tuned+kernels' : 'tuned', m, b, steps);
        } catch (e) {
          report({ probe: 'timeline', model: m, batch: b, kernels, error: String(e) });
        }
      }
    }
    applyWebgpuFlags(tuning);
    if (timelineOnly) return;
  }
  try {
    await rawDawn(device);
  } catch (e) {
    report({ probe: 'raw', error: String(e) });
  }
  try {
    await tfjsSmallOps();
  } catch (e) {
    report({ probe: 'tfjs.smallOps', error: String(e) });
  }
  const variants: Array<[string, WebgpuTuning]> = [
    ['stock-tfjs', { ...tuning, submitBatchSize: 15, fusedAdam: false }],
    ['submit1000', { ...tuning, submitBatchSize: 1000, fusedAdam: false }],
    ['submit1000+fusedAdam', { ...tuning, submitBatchSize: 1000, fusedAdam: true }],
  ];
  const steps = quick ? 16 : 32;
  for (const [label, t] of variants) {
    applyWebgpuFlags(t);
    const runs: Array<['mlp' | 'cnn', number, Fit]> = [
      ['mlp', 128, 'engine'],
      ['mlp', 512, 'engine'],
      ['mlp', 1024, 'engine'],
      ['cnn', 64, 'engine'],
      ['cnn', 256, 'engine'],
    ];
    if (label === 'stock-tfjs' || label === 'submit1000+fusedAdam')
      runs.push(['mlp', 128, 'model'], ['cnn', 64, 'model']);
    for (const [m, b, f] of runs) {
      try {
        await trainSteps(label, m, b, f, steps);
      } catch (e) {
        report({ probe: 'train', label, model: m, batch: b, fit: f, error: String(e) });
      }
    }
  }
  console.log('\nlabel                 model batch fit     ms/step  samples/s  disp/step upl/step');
  for (const r of results.filter((x) => x.probe === 'train' && !x.error)) {
    const text = (key: string, width: number) => String(r[key]).padEnd(width);
    const number = (key: string, digits: number, width: number) => (r[key] as number).toFixed(digits).padStart(width);
    const head = `${text('label', 21)} ${text('model', 5)} ${String(r.batch).padStart(5)} ${text('fit', 6)}`;
    const rates = `${number('samplesPerSec', 0, 10)} ${number('dispatchesPerStep', 0, 9)}`;
    console.log(`${head} ${number('msPerStep', 2, 8)} ${rates} ${number('uploadsPerStep', 0, 8)}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
