/**
 * WebGPU (Dawn via the npm `webgpu` package) setup and per-step-overhead tuning for tfjs-backend-webgpu.
 *
 * What a training step costs on this stack is mostly fixed overhead per kernel (tfjs bookkeeping, a uniform
 * buffer, a bind group, Dawn validation, a command-buffer submit every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE
 * dispatches) and per small upload (every JS-number scalar an op touches becomes a tensor, and tfjs-webgpu
 * creates and destroys a mapped staging buffer for each upload). The tuning here:
 *
 *  - Dawn toggles (`create(['enable-dawn-features=...'])`): skip_validation, disable_robustness,
 *    disable_lazy_clear_for_mapped_at_creation_buffer.
 *  - WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: submit a command buffer every N dispatches instead of every 15.
 *  - Uploads through queue.writeBuffer (Dawn's ring-buffer staging) instead of tfjs's createBuffer(mappedAtCreation)
 *    + destroy of a fresh staging buffer per upload: measured ~0.6-0.8 ms per upload on an H100/Vulkan VM, and every
 *    JS-number scalar in an op (Adam's betas, the loss's epsilon, ...) is one upload.
 *  - getBindGroupLayout(0) memoized per pipeline (tfjs asks Dawn for it on every dispatch).
 *  - A fused Adam update (installFusedAdam): ONE compute dispatch per variable updating value, m and v in place,
 *    instead of ~14 element-wise kernels plus ~6 scalar uploads per variable plus the accBeta bookkeeping.
 *
 * Overrides for experiments (environment):
 *   TRAINING_WEBGPU_TUNING=0          no tuning at all (stock tfjs-backend-webgpu + Dawn defaults)
 *   TRAINING_WEBGPU_DAWN_TOGGLES=a,b  Dawn toggles to enable ('none' for none)
 *   TRAINING_WEBGPU_SUBMIT_BATCH=N    WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE
 *   TRAINING_WEBGPU_FUSED_ADAM=0      keep tfjs's own Adam
 *   TRAINING_WEBGPU_FAST_UPLOADS=0    keep tfjs's staging-buffer uploads
 *   TRAINING_WEBGPU_KERNELS=0         keep tfjs-backend-webgpu's own kernels (no webgpu-kernels.ts replacements)
 */
import * as tf from '@tensorflow/tfjs';

import { setWebgpuKernels } from './webgpu-kernels.js';

export interface WebgpuTuning {
  /** Dawn toggles passed as enable-dawn-features. */
  dawnToggles: string[];
  /** WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (tfjs default 15). */
  submitBatchSize: number;
  /** Replace tfjs Adam's element-wise update with one fused dispatch per variable on webgpu. */
  fusedAdam: boolean;
  /** Uploads via queue.writeBuffer, memoized bind group layouts (fixed at setup). */
  fastUploads: boolean;
  /** Replacement WGSL kernels for the training step (libs/pure/training/webgpu-kernels.ts). */
  kernels: boolean;
}

export const DEFAULT_WEBGPU_TUNING: WebgpuTuning = {
  dawnToggles: ['skip_validation', 'disable_robustness', 'disable_lazy_clear_for_mapped_at_creation_buffer'],
  submitBatchSize: 1000,
  fusedAdam: true,
  fastUploads: true,
  kernels: true,
};

export const STOCK_WEBGPU_TUNING: WebgpuTuning = {
  dawnToggles: [],
  submitBatchSize: 15,
  fusedAdam: false,
  fastUploads: false,
  kernels: false,
};

/** The tuning to use: `tuned` (default true) picks DEFAULT or STOCK, then environment overrides apply. */
export function webgpuTuningFromEnv(tuned = true, env: NodeJS.ProcessEnv = process.env): WebgpuTuning {
  const base = tuned && env.TRAINING_WEBGPU_TUNING !== '0' ? DEFAULT_WEBGPU_TUNING : STOCK_WEBGPU_TUNING;
  const t: WebgpuTuning = { ...base, dawnToggles: [...base.dawnToggles] };
  if (env.TRAINING_WEBGPU_DAWN_TOGGLES != null) {
    t.dawnToggles =
      env.TRAINING_WEBGPU_DAWN_TOGGLES === 'none' ? [] : env.TRAINING_WEBGPU_DAWN_TOGGLES.split(',').filter(Boolean);
  }
  if (env.TRAINING_WEBGPU_SUBMIT_BATCH) t.submitBatchSize = Math.max(1, Number(env.TRAINING_WEBGPU_SUBMIT_BATCH) || 15);
  if (env.TRAINING_WEBGPU_FUSED_ADAM != null) t.fusedAdam = env.TRAINING_WEBGPU_FUSED_ADAM !== '0';
  if (env.TRAINING_WEBGPU_FAST_UPLOADS != null) t.fastUploads = env.TRAINING_WEBGPU_FAST_UPLOADS !== '0';
  if (env.TRAINING_WEBGPU_KERNELS != null) t.kernels = env.TRAINING_WEBGPU_KERNELS !== '0';
  return t;
}

export interface WebgpuSetup {
  adapterInfo: { vendor?: string; architecture?: string; device?: string; description?: string };
  tuning: WebgpuTuning;
}

/**
 * Loads Dawn (npm `webgpu`), installs navigator.gpu and the WebGPU globals, imports tfjs-backend-webgpu and
 * applies the tuning. Returns undefined when there is no adapter (no GPU / no Vulkan driver). Does NOT call
 * tf.setBackend: the caller does.
 */
export async function setupWebgpu(
  tuning: WebgpuTuning = webgpuTuningFromEnv(),
  /** More Dawn instance options (e.g. the probe's 'disable-dawn-features=timestamp_quantization'). */
  dawnOptions: string[] = [],
): Promise<WebgpuSetup | undefined> {
  const webgpu = (await import('webgpu')) as unknown as {
    create: (options: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, webgpu.globals);
  const options = tuning.dawnToggles.length ? [`enable-dawn-features=${tuning.dawnToggles.join(',')}`] : [];
  options.push(...dawnOptions);
  const gpu = webgpu.create(options);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return undefined;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const tfwebgpu = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: { prototype: object };
  };
  if (tuning.fastUploads) installFastUploads(tfwebgpu.WebGPUBackend.prototype as UploadPatchTarget);
  if (tuning.fastUploads)
    memoizeBindGroupLayouts(webgpu.globals.GPUComputePipeline as { prototype: GPUComputePipeline } | undefined);
  applyWebgpuFlags(tuning);
  const info = (adapter as unknown as { info?: WebgpuSetup['adapterInfo'] }).info ?? {};
  return {
    adapterInfo: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    },
    tuning,
  };
}

/** tfjs-side flags; safe to call again at run time (the submit batch size is read per dispatch). */
export function applyWebgpuFlags(tuning: WebgpuTuning): void {
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', tuning.submitBatchSize);
  setFusedAdam(tuning.fusedAdam);
  setWebgpuKernels(tuning.kernels);
}

// ---------------------------------------------------------------------------------------------------------------
// Uploads and bind group layouts
// ---------------------------------------------------------------------------------------------------------------

interface UploadPatchTarget {
  uploadToGPU(this: UploadBackend, dataId: object): void;
  __fastUploads?: boolean;
}
interface UploadBackend {
  device: GPUDevice;
  queue: GPUQueue;
  tensorMap: {
    get(dataId: object): { resource?: unknown; values?: ArrayLike<number> | null; dtype: string; shape: number[] };
  };
  bufferManager: { acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GPUBuffer };
}

/**
 * tfjs-backend-webgpu 4.x uploads CPU values by acquiring a (pooled) buffer and, when that buffer is not freshly
 * mapped, creating a mapped MAP_WRITE staging buffer that is destroyed after the next submit. Creating that buffer
 * is the expensive part on Vulkan; queue.writeBuffer stages through Dawn's reusable ring buffer instead.
 * Ordering is the same: a pooled buffer is never referenced by the not-yet-submitted command encoder (tfjs only
 * returns buffers to the pool at submit, or at once when the current encoder does not use them), and the
 * write is queued before that encoder is submitted.
 */
function installFastUploads(proto: UploadPatchTarget): void {
  if (proto.__fastUploads) return;
  proto.__fastUploads = true;
  const original = proto.uploadToGPU;
  proto.uploadToGPU = function (this: UploadBackend, dataId: object) {
    const d = this.tensorMap.get(dataId);
    if (
      !d ||
      d.resource != null ||
      d.values == null ||
      (d.dtype !== 'float32' && d.dtype !== 'int32' && d.dtype !== 'bool')
    ) {
      return original.call(this, dataId);
    }
    const n = d.shape.reduce((a, b) => a * b, 1);
    if (n === 0) return original.call(this, dataId);
    const size = 4 * n;
    const buffer = this.bufferManager.acquireBuffer(
      size,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    );
    const src = d.values;
    const data =
      d.dtype === 'float32'
        ? src instanceof Float32Array
          ? src
          : Float32Array.from(src)
        : src instanceof Int32Array
          ? src
          : Int32Array.from(src);
    if (buffer.mapState === 'mapped') {
      // Fresh buffers come mapped at creation only from tfjs's own path; be safe if one does.
      new (data.constructor as Float32ArrayConstructor)(buffer.getMappedRange()).set(data as Float32Array);
      buffer.unmap();
    } else {
      this.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, size);
    }
    d.values = null;
    d.resource = buffer;
  };
}

function memoizeBindGroupLayouts(ctor: { prototype: GPUComputePipeline } | undefined): void {
  const proto = ctor?.prototype as (GPUComputePipeline & { __memoBGL?: boolean }) | undefined;
  if (!proto || proto.__memoBGL) return;
  proto.__memoBGL = true;
  const original = proto.getBindGroupLayout;
  const cache = new WeakMap<GPUComputePipeline, Map<number, GPUBindGroupLayout>>();
  proto.getBindGroupLayout = function (this: GPUComputePipeline, index: number) {
    let m = cache.get(this);
    if (!m) cache.set(this, (m = new Map()));
    let l = m.get(index);
    if (!l) m.set(index, (l = original.call(this, index)));
    return l;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fused Adam
// ---------------------------------------------------------------------------------------------------------------

/** The parts of tfjs-backend-webgpu's WebGPUBackend (4.x) the fused update uses. */
interface WebgpuBackendInternals {
  device: GPUDevice;
  tensorMap: {
    get(dataId: object): { resource?: unknown; values?: unknown; external?: boolean; dtype: string } | undefined;
  };
  commandQueueOwnedIds: WeakSet<object>;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  uploadToGPU(dataId: object): void;
  refCount(dataId: object): number;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  makeUniforms(u: Array<{ type: string; data: number[] }>): GPUBufferBinding;
}

interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  iterations_?: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  incrementIterations(): void;
  /** Steps done by the fused path since accBeta1/2 were last in sync. */
  __fusedSteps?: number;
}

const ADAM_WGSL = /* wgsl */ `
struct U { h: vec4<f32>, c: vec4<f32>, n: u32 };
@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= u.n) { return; }
  let gi = g[i];
  // Same arithmetic as tfjs-core AdamOptimizer.applyGradients.
  let mi = m[i] * u.h.y + gi * u.c.x;
  let vi = v[i] * u.h.z + (gi * gi) * u.c.y;
  m[i] = mi;
  v[i] = vi;
  let mh = mi / u.c.z;
  let vh = vi / u.c.w;
  w[i] = (mh / (sqrt(vh) + u.h.w)) * (-u.h.x) + w[i];
}`;

const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();
type VariableGradients = tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>;
type ApplyGradients = (this: unknown, g: VariableGradients) => void;
let originalApply: ApplyGradients | undefined;
let fusedEnabled = false;
/** Counters for tests/benchmarks. */
export const fusedAdamStats = { fusedSteps: 0, fallbackSteps: 0 };

function pipelineFor(device: GPUDevice): GPUComputePipeline {
  let p = pipelines.get(device);
  if (!p) {
    p = device.createComputePipeline({
      layout: 'auto',
      compute: { module: device.createShaderModule({ code: ADAM_WGSL }), entryPoint: 'main' },
    });
    pipelines.set(device, p);
  }
  return p;
}

/** Turns the fused Adam update on or off (patches tf.AdamOptimizer.prototype.applyGradients once). */
export function setFusedAdam(on: boolean): void {
  fusedEnabled = on;
  if (!on || originalApply) return;
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients };
  const orig = proto.applyGradients;
  originalApply = orig;
  proto.applyGradients = function (this: unknown, variableGradients: VariableGradients) {
    if (!fusedEnabled || tf.getBackend() !== 'webgpu' || !fusedAdamStep(this as AdamInternals, variableGradients)) {
      const self = this as AdamInternals;
      if (self.__fusedSteps) {
        // Bring the bias-correction accumulators back in sync before tfjs's own update uses them.
        const t = self.iterations_ ?? 0;
        self.accBeta1.assign(tf.scalar(Math.pow(self.beta1, t + 1)));
        self.accBeta2.assign(tf.scalar(Math.pow(self.beta2, t + 1)));
        self.__fusedSteps = 0;
      }
      fusedAdamStats.fallbackSteps++;
      orig.call(this, variableGradients);
    }
  };
}

/** One fused Adam step; returns false (having changed nothing) when it cannot run here. */
function fusedAdamStep(opt: AdamInternals, variableGradients: VariableGradients): boolean {
  const backend = tf.backend() as unknown as WebgpuBackendInternals;
  if (!backend?.device || !backend.tensorMap) return false;
  const entries = Array.isArray(variableGradients)
    ? variableGradients.map((v) => [v.name, v.tensor] as const)
    : Object.keys(variableGradients).map((k) => [k, variableGradients[k]] as const);
  const vars = entries.map(([name]) => tf.engine().registeredVariables[name]);
  // In-place updates are only safe on plain float32 GPU data that no other tensor aliases.
  for (let i = 0; i < entries.length; i++) {
    const v = vars[i];
    const g = entries[i][1];
    if (!v || v.dtype !== 'float32') return false;
    if (g == null) continue;
    if (g.dtype !== 'float32' || g.size !== v.size) return false;
    const d = backend.tensorMap.get(v.dataId);
    if (!d || d.external || backend.refCount(v.dataId) > 1) return false;
  }
  const t = opt.iterations_ ?? 0;
  const accBeta1 = Math.pow(opt.beta1, t + 1);
  const accBeta2 = Math.pow(opt.beta2, t + 1);
  const device = backend.device;
  const pipeline = pipelineFor(device);
  const layout = pipeline.getBindGroupLayout(0);
  const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
  entries.forEach(([name, gradient], i) => {
    const value = vars[i];
    if (opt.accumulatedFirstMoment[i] == null) {
      opt.accumulatedFirstMoment[i] = {
        originalName: `${name}/m`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
    }
    if (opt.accumulatedSecondMoment[i] == null) {
      opt.accumulatedSecondMoment[i] = {
        originalName: `${name}/v`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
    }
    if (gradient == null || value.size === 0) return;
    const m = opt.accumulatedFirstMoment[i]!.variable;
    const v = opt.accumulatedSecondMoment[i]!.variable;
    const ids = [value.dataId, m.dataId, v.dataId, gradient.dataId];
    for (const id of ids) backend.uploadToGPU(id);
    const buffers = ids.map((id) => backend.tensorMap.get(id)!.resource as GPUBuffer);
    // The GPU copy is about to change: drop any CPU-cached copy of the written tensors.
    for (const id of ids.slice(0, 3)) backend.tensorMap.get(id)!.values = null;
    const uniforms = backend.makeUniforms([
      { type: 'float32', data: [opt.learningRate, opt.beta1, opt.beta2, opt.epsilon] },
      { type: 'float32', data: [1 - opt.beta1, 1 - opt.beta2, 1 - accBeta1, 1 - accBeta2] },
      { type: 'uint32', data: [value.size] },
    ]);
    const bindGroup = device.createBindGroup({
      layout,
      entries: [
        ...buffers.map((buffer, b) => ({ binding: b, resource: { buffer } })),
        { binding: 4, resource: uniforms },
      ],
    });
    for (const id of ids) backend.commandQueueOwnedIds.add(id);
    backend.ensureCommandEncoderReady();
    if (!backend.computePassEncoder) backend.computePassEncoder = backend.commandEncoder!.beginComputePass({});
    const groups = Math.ceil(value.size / 256);
    const x = Math.min(groups, maxPerDim);
    backend.computePassEncoder.setPipeline(pipeline);
    backend.computePassEncoder.setBindGroup(0, bindGroup);
    backend.computePassEncoder.dispatchWorkgroups(x, Math.ceil(groups / x), 1);
    backend.dispatchCountInPass++;
    if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= backend.dispatchCountInPass) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
  });
  opt.__fusedSteps = (opt.__fusedSteps ?? 0) + 1;
  opt.incrementIterations();
  fusedAdamStats.fusedSteps++;
  return true;
}
