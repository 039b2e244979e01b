/**
 * Cheaper versions of a few built-in wasm kernels that a training step runs many times:
 * - Identity: the wasm kernel copies its input; the cpu/webgl backends share the data (refcount + 1), as here.
 *   (A training step runs ~46 of them, three on the largest conv activation.)
 * - GatherV2 (batchDims 0, in-range indices): block copies instead of the wasm per-element index math
 *   (~3 ms for 64 rows of a [8192, 784] data set).
 * - Sum over leading axes (BiasAddGrad of conv layers, NHWC: sum over N, H, W): a row accumulation instead
 *   of the wasm kernel's transpose-then-reduce.
 * Everything else goes to the original kernel.
 */
import type { GatherV2Attrs, KernelFunc, SliceAttrs, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

import { f32, size, view, type WasmKernelArgs } from './heap.js';
import { heapOffset, nativeKernels } from './native.js';

interface RefCounting {
  incRef(dataId: object): void;
}

export function makeIdentity(fallback: KernelFunc): KernelFunc {
  return ((args: WasmKernelArgs): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    (args.backend as unknown as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  }) as unknown as KernelFunc;
}

export function makeGatherV2(fallback: KernelFunc): KernelFunc {
  return ((args: WasmKernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x, indices } = inputs;
    const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
    const rank = x.shape.length;
    const ax = axis < 0 ? axis + rank : axis;
    if (
      (batchDims ?? 0) !== 0 ||
      ax < 0 ||
      ax >= rank ||
      indices.dtype !== 'int32' ||
      (x.dtype !== 'float32' && x.dtype !== 'int32')
    ) {
      return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const dimSize = x.shape[ax];
    const idx = view(backend, indices) as Int32Array;
    for (let i = 0; i < idx.length; i++) {
      if (idx[i] < 0 || idx[i] >= dimSize) return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const outer = size(x.shape.slice(0, ax));
    const inner = size(x.shape.slice(ax + 1));
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const out = backend.makeOutput(outShape, x.dtype);
    // Views after the allocation.
    const xv = view(backend, x);
    const ov = view(backend, out);
    const iv = view(backend, indices) as Int32Array;
    const nIdx = iv.length;
    let o = 0;
    for (let a = 0; a < outer; a++) {
      const base = a * dimSize * inner;
      for (let i = 0; i < nIdx; i++, o += inner) {
        const s = base + iv[i] * inner;
        if (inner === 1) ov[o] = xv[s];
        else ov.set(xv.subarray(s, s + inner), o);
      }
    }
    return out;
  }) as unknown as KernelFunc;
}

export function makeSum(fallback: KernelFunc): KernelFunc {
  return ((args: WasmKernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const { axis, keepDims } = attrs as unknown as SumAttrs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    // Only a leading prefix of axes (0..k-1, k < rank) on float32: out[c] = sum over rows r of x[r, c].
    const k = axes.length;
    const prefix = k > 0 && k < rank && axes.every((a, i) => a === i);
    if (!prefix || x.dtype !== 'float32') return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    const rows = size(x.shape.slice(0, k));
    const cols = size(x.shape.slice(k));
    const outShape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32');
    const native = nativeKernels(backend);
    if (native) {
      const scratch = backend.makeOutput([cols * 3 + 2], 'float32');
      native.sum_rows(heapOffset(backend, x), heapOffset(backend, out), rows, cols, heapOffset(backend, scratch));
      backend.disposeData(scratch.dataId);
      return out;
    }
    const xv = f32(backend, x);
    const ov = f32(backend, out);
    if (cols > 64) {
      // Wide rows: one pass, row by row, into an accumulator array.
      const acc = new Float64Array(cols);
      for (let r = 0, o = 0; r < rows; r++, o += cols) {
        for (let c = 0; c < cols; c++) acc[c] += xv[o + c];
      }
      for (let c = 0; c < cols; c++) ov[c] = acc[c];
      return out;
    }
    // Narrow rows (conv bias gradients): four columns at a time down the rows with local accumulators
    // (~4x faster in V8 than the row-by-row pass above).
    const end = rows * cols;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let o = c; o < end; o += cols) {
        a0 += xv[o];
        a1 += xv[o + 1];
        a2 += xv[o + 2];
        a3 += xv[o + 3];
      }
      ov[c] = a0;
      ov[c + 1] = a1;
      ov[c + 2] = a2;
      ov[c + 3] = a3;
    }
    for (; c < cols; c++) {
      let a = 0;
      for (let o = c; o < end; o += cols) a += xv[o];
      ov[c] = a;
    }
    return out;
  }) as unknown as KernelFunc;
}

/**
 * Slice without the wasm kernel's `readSync` of the whole input (a copy of the full tensor out of the heap on
 * every call: ~19 ms to take a [64, 784] batch out of a [8192, 784] epoch). Copies runs of the last axis
 * straight between heap views.
 */
export function makeSlice(fallback: KernelFunc): KernelFunc {
  return ((args: WasmKernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const { begin, size: sizeAttr } = attrs as unknown as SliceAttrs;
    const rank = x.shape.length;
    if (rank === 0 || (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool')) {
      return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, sizeAttr);
    const out = backend.makeOutput(s, x.dtype);
    const n = size(s);
    if (n === 0) return out;
    const xv = view(backend, x);
    const ov = view(backend, out);
    const strides = tf.util.computeStrides(x.shape);
    if (tf.slice_util.isSliceContinous(x.shape, b, s)) {
      const off = tf.slice_util.computeFlatOffset(b, strides);
      ov.set(xv.subarray(off, off + n));
      return out;
    }
    // Odometer over all but the last axis; one run of s[rank - 1] elements per position.
    const run = s[rank - 1];
    const idx = new Array<number>(rank - 1).fill(0);
    for (let o = 0; o < n; o += run) {
      let off = b[rank - 1];
      for (let d = 0; d < rank - 1; d++) off += (b[d] + idx[d]) * strides[d];
      if (run === 1) ov[o] = xv[off];
      else ov.set(xv.subarray(off, off + run), o);
      for (let d = rank - 2; d >= 0; d--) {
        if (++idx[d] < s[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }) as unknown as KernelFunc;
}

/**
 * Add with a bias-shaped operand ([..., C] + [C], either order: every conv/dense layer's bias add while training,
 * when tfjs runs it unfused) as one SIMD pass in native/kernels.c; every other Add goes to the wasm kernel.
 */
export function makeAdd(fallback: KernelFunc): KernelFunc {
  return ((args: WasmKernelArgs): TensorInfo => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    const native = nativeKernels(backend);
    if (native && a.dtype === 'float32' && b.dtype === 'float32') {
      const [big, bias] = size(a.shape) >= size(b.shape) ? [a, b] : [b, a];
      const cols = big.shape[big.shape.length - 1] ?? 1;
      const biasLike =
        bias.shape.length <= big.shape.length &&
        size(bias.shape) === cols &&
        bias.shape[bias.shape.length - 1] === cols;
      if (biasLike && big.shape.length >= 2 && size(big.shape) >= 4096) {
        const out = backend.makeOutput([...big.shape], 'float32');
        native.add_bias_rows(
          heapOffset(backend, big),
          heapOffset(backend, bias),
          heapOffset(backend, out),
          size(big.shape) / cols,
          cols,
        );
        return out;
      }
    }
    return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  }) as unknown as KernelFunc;
}
