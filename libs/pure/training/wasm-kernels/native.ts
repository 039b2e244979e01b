/**
 * SIMD kernels compiled from native/kernels.c into a small wasm module that imports the tfjs wasm backend's
 * own WebAssembly.Memory, so they work on tensors in place on the backend's heap (no copies in or out).
 *
 * Why: the hot training kernels written in JS (im2col + XNNPACK matmul for Conv2DBackpropFilter, MaxPoolGrad)
 * cost ~15 ms of a ~32 ms CNN step; the same loops with wasm SIMD and cache-sized tiles take a fraction.
 *
 * Loaded lazily on first use; when it cannot be (no SIMD), `nativeKernels` returns null and the callers keep
 * their JS paths.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

import type { WasmBackendLike } from './heap.js';
import { NATIVE_KERNELS_SHARED_WASM_BASE64, NATIVE_KERNELS_WASM_BASE64 } from './native-binary.js';

export type { ConvDims };

/** Dims shared by the conv kernels: N, H, W, Cin, OH, OW, Cout, KH, KW, sH, sW, dH, dW, padT, padL. */
type ConvDims = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

export interface NativeKernels {
  conv2d_backprop_filter_dyn(
    x: number,
    dy: number,
    accs: number,
    nblocks: number,
    scratch: number,
    chunk: number,
    counter: number,
    ...dims: ConvDims
  ): void;
  conv2d_backprop_input_dyn(
    dy: number,
    wt: number,
    dx: number,
    dcols: number,
    chunk: number,
    counter: number,
    ...dims: ConvDims
  ): void;
  conv2d_nhwc_dyn(
    x: number,
    w: number,
    out: number,
    scratch: number,
    chunk: number,
    counter: number,
    ...dims: ConvDims
  ): void;
  sum_parts(parts: number, stride: number, count: number, out: number, n: number): void;
  transpose_filter(w: number, wt: number, R: number, Cout: number): void;
  conv2d_backprop_filter_nhwc(
    x: number,
    dy: number,
    dw: number,
    accs: number,
    nblocks: number,
    scratch: number,
    chunk: number,
    ...dims: ConvDims
  ): void;
  adam_update(
    value: number,
    grad: number,
    m: number,
    v: number,
    outValue: number,
    outM: number,
    outV: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    epsilon: number,
    negLr: number,
  ): void;
  add_bias_rows(a: number, bias: number, out: number, rows: number, cols: number): void;
  sum_rows(x: number, out: number, rows: number, cols: number, scratch: number): void;
  relu_grad(dy: number, x: number, dx: number, n: number): void;
  batch_matmul(a: number, b: number, c: number, batch: number, M: number, K: number, N: number): void;
  clip_grad(dy: number, x: number, dx: number, n: number, lo: number, hi: number): void;
  conv2d_backprop_input_nhwc(
    dy: number,
    w: number,
    dx: number,
    wt: number,
    dcols: number,
    chunk: number,
    ...dims: ConvDims
  ): void;
  max_pool_grad_nhwc(
    x: number,
    dy: number,
    dx: number,
    N: number,
    H: number,
    W: number,
    C: number,
    OH: number,
    OW: number,
    KH: number,
    KW: number,
    sH: number,
    sW: number,
    dH: number,
    dW: number,
    padT: number,
    padL: number,
  ): void;
}

let cached: { memory: WebAssembly.Memory; kernels: NativeKernels | null } | undefined;
let disabled = false;

/** Turn the native kernels off (the JS paths run instead: TRAINING_WASM_NATIVE=0, tests, benchmarks). */
export function setNativeKernelsEnabled(enabled: boolean): void {
  disabled = !enabled;
}

function backendMemory(backend: WasmBackendLike): WebAssembly.Memory | undefined {
  const module = backend.wasm as unknown as { asm?: { memory?: unknown }; wasmMemory?: unknown };
  const memory = module.asm?.memory ?? module.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

export function nativeKernels(backend: WasmBackendLike): NativeKernels | null {
  if (disabled) return null;
  const memory = backendMemory(backend);
  if (!memory) return null;
  if (cached?.memory === memory) return cached.kernels;
  let kernels: NativeKernels | null;
  try {
    // tfjs's threaded build (wasm-kernels/threads.ts) has a shared heap: that needs the shared-memory build.
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssembly.Module(
      Buffer.from(shared ? NATIVE_KERNELS_SHARED_WASM_BASE64 : NATIVE_KERNELS_WASM_BASE64, 'base64'),
    );
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    kernels = instance.exports as unknown as NativeKernels;
  } catch {
    kernels = null; // e.g. a heap whose limits do not match the module's import
  }
  cached = { memory, kernels };
  return kernels;
}

/** The native kernels of tfjs's current backend when that is wasm (and they load); else null. */
export function activeNativeKernels(): NativeKernels | null {
  return tf.getBackend() === 'wasm' ? nativeKernels(tf.backend() as unknown as WasmBackendLike) : null;
}

/** Byte offset of a tensor's data on the backend's heap. */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('wasm-kernels: tensor is not on the wasm backend');
  return data.memoryOffset;
}
