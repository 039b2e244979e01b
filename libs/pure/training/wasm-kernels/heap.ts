/**
 * Minimal helpers for kernels that work directly on the tfjs wasm backend's heap.
 *
 * Every tensor of the wasm backend lives in the Emscripten heap at `dataIdMap.get(dataId).memoryOffset`.
 * Views must be (re)created AFTER every allocation (`makeOutput`), because a malloc can grow the
 * wasm memory and detach previously created views.
 */
import type { DataType, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

export interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}

/** The subset of `BackendWasm` (from @tensorflow/tfjs-backend-wasm) the kernels use. */
export interface WasmBackendLike {
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number, values?: unknown): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export type WasmKernelArgs = { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: NamedAttrMap };

function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** Float32 view on the heap for a float32 tensor (any shape: the view covers all its elements). */
export function f32(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('wasm-kernels: tensor is not on the wasm backend');
  return new Float32Array(backend.wasm.HEAPU8.buffer, data.memoryOffset, size(t.shape));
}

/** Int32 view on the heap for an int32 tensor. */
export function i32(backend: WasmBackendLike, t: TensorInfo): Int32Array {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('wasm-kernels: tensor is not on the wasm backend');
  return new Int32Array(backend.wasm.HEAPU8.buffer, data.memoryOffset, size(t.shape));
}

/** Typed view matching the tensor's dtype. */
export function view(backend: WasmBackendLike, t: TensorInfo): Float32Array | Int32Array | Uint8Array {
  if (t.dtype === 'float32') return f32(backend, t);
  if (t.dtype === 'int32') return i32(backend, t);
  if (t.dtype === 'bool') {
    const data = backend.dataIdMap.get(t.dataId)!;
    return new Uint8Array(backend.wasm.HEAPU8.buffer, data.memoryOffset, size(t.shape));
  }
  throw new Error(`wasm-kernels: unsupported dtype ${t.dtype}`);
}

/** A TensorInfo sharing `t`'s data with another shape (no copy; do not dispose it separately). */
export function reshaped(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export { size };

/**
 * The original wasm BatchMatMul kernel (XNNPACK fully-connected path when transposeA/B are false, which is
 * ~10x faster than its transposed paths). Captured before registerWasmTrainingKernels overrides it.
 */
let nativeBatchMatMul: KernelFunc | undefined;
export function setNativeBatchMatMul(k: KernelFunc): void {
  nativeBatchMatMul = k;
}

/** out[b] = a[b] @ b[b] with a: [B,M,K], b: [B,K,N] (row-major, no transposes), through XNNPACK. */
export function matMulNN(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  const k = nativeBatchMatMul ?? tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
  return k({
    inputs: { a, b },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { transposeA: false, transposeB: false },
  }) as TensorInfo;
}

/** Transposes the last two dims: src [B,R,C] -> dst [B,C,R]. Blocked for cache friendliness. */
export function transposeLast2(src: Float32Array, dst: Float32Array, B: number, R: number, C: number): void {
  const T = 32;
  const RC = R * C;
  for (let b = 0; b < B; b++) {
    const o = b * RC;
    for (let r0 = 0; r0 < R; r0 += T) {
      const r1 = Math.min(r0 + T, R);
      for (let c0 = 0; c0 < C; c0 += T) {
        const c1 = Math.min(c0 + T, C);
        for (let r = r0; r < r1; r++) {
          const s = o + r * C;
          for (let c = c0; c < c1; c++) dst[o + c * R + r] = src[s + c];
        }
      }
    }
  }
}
