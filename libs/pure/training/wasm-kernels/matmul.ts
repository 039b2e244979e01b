/**
 * BatchMatMul wrapper for the wasm backend: the built-in kernel is fast (XNNPACK) only for
 * transposeA = transposeB = false; its transposed paths are ~10x slower. Dense-layer gradients use
 * exactly those (dW = x^T dy, dx = dy W^T), so transposed operands are transposed into a temp on the
 * heap first (O(size), cheap) and the untransposed kernel is used.
 *
 * With more than one batch (attention's [batch, heads, steps, dim] products) the built-in kernel leaves XNNPACK
 * for a scalar loop (~0.4 GMAC/s here); those run as the native module's SIMD GEMM once per batch instead
 * (batch_matmul), when both operands have the same batch dimensions.
 */
import type { BatchMatMulAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

import { f32, size, transposeLast2, type WasmKernelArgs } from './heap.js';
import { heapOffset, nativeKernels } from './native.js';

export function makeBatchMatMul(native: KernelFunc): KernelFunc {
  return ((args: WasmKernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    const batch = size(a.shape.slice(0, -2));
    const sameBatch =
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      a.shape.length === b.shape.length &&
      a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
    // 2-D products stay on XNNPACK: measured no slower than the SIMD GEMM, also with the operand transposed.
    const simd = sameBatch && batch > 1 ? nativeKernels(backend) : null;
    if ((!transposeA && !transposeB && !simd) || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return native(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const tmps: TensorInfo[] = [];
    const plan: Array<[TensorInfo, TensorInfo]> = [];
    const prep = (t: TensorInfo, transpose: boolean): TensorInfo => {
      if (!transpose) return t;
      const r = t.shape.length;
      const shape = [...t.shape.slice(0, -2), t.shape[r - 1], t.shape[r - 2]];
      const tt = backend.makeOutput(shape, 'float32');
      tmps.push(tt);
      plan.push([t, tt]);
      return tt;
    };
    const a2 = prep(a, transposeA);
    const b2 = prep(b, transposeB);
    for (const [src, dst] of plan) {
      const r = src.shape.length;
      const R = src.shape[r - 2];
      const C = src.shape[r - 1];
      transposeLast2(f32(backend, src), f32(backend, dst), size(src.shape.slice(0, -2)), R, C);
    }
    let out: TensorInfo;
    if (simd) {
      const r = a2.shape.length;
      const [M, K, N] = [a2.shape[r - 2], a2.shape[r - 1], b2.shape[r - 1]];
      out = backend.makeOutput([...a2.shape.slice(0, -2), M, N], 'float32');
      simd.batch_matmul(heapOffset(backend, a2), heapOffset(backend, b2), heapOffset(backend, out), batch, M, K, N);
    } else {
      const attrs = { transposeA: false, transposeB: false };
      out = native({ inputs: { a: a2, b: b2 }, backend: backend as never, attrs }) as TensorInfo;
    }
    for (const t of tmps) backend.disposeData(t.dataId);
    return out;
  }) as unknown as KernelFunc;
}
