/**
 * Conv2DBackpropFilter (missing in tfjs-backend-wasm), a faster Conv2DBackpropInput, and Conv2D across threads.
 *
 * Each has up to three paths, best first:
 *  1. the conv thread pool (native-pool.ts): the native SIMD kernels of native/kernels.c on every CPU, for NHWC
 *     float32 convs big enough to be worth waking it;
 *  2. the native kernels on this thread, in place on the backend's heap (Conv2D: XNNPACK's own kernel instead);
 *  3. JS im2col/col2im loops plus ONE untransposed XNNPACK BatchMatMul (its transposed paths are ~10x slower),
 *     for NCHW and when the native module is off:
 *       dW[R, Cout]   = colsT[R, P] @ dy[P, Cout]        (R = KH*KW*Cin, P = N*OH*OW)
 *       dcols[P, R]   = dy[P, Cout] @ W^T[Cout, R]   ->  dx = col2im(dcols)
 */
import type { Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

import { convGeometry, validOutputColumns } from './conv-geometry.js';
import { f32, matMulNN, reshaped, size, transposeLast2, type WasmKernelArgs } from './heap.js';
import { type ConvDims, heapOffset, nativeKernels } from './native.js';
import { type NativePool, nativePool } from './native-pool.js';

type Shape4 = [number, number, number, number];

/** Scratch floats for one chunk of im2col (or dcols) rows in the native conv kernels (32 KiB: L1-sized). */
const NATIVE_SCRATCH_FLOATS = 8192;
/**
 * dW is summed in this many fixed blocks of output pixels, then the blocks in order, on one thread and on the
 * pool alike: the same float operations in the same order whoever computes a block, so a seeded run gives the
 * same weights every time and with any thread count.
 */
const DW_BLOCKS = 8;
/** Below this many multiply-adds a conv kernel stays on one thread (waking the pool would cost more). */
let poolMinMacs = 2_000_000;
/** For tests: send even tiny convs through the pool (0), or restore the default (undefined). */
export function setPoolMinMacs(macs: number | undefined): void {
  poolMinMacs = macs ?? 2_000_000;
}

function convDims(info: tf.backend_util.Conv2DInfo): ConvDims {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

function chunkFor(rowFloats: number): number {
  return Math.max(16, Math.min(512, Math.floor(NATIVE_SCRATCH_FLOATS / rowFloats)));
}

/** The pool when it exists, the work is big enough and the copies fit its memory; else null (one thread). */
function poolFor(info: tf.backend_util.Conv2DInfo, floats: number): NativePool | null {
  const macs =
    info.batchSize *
    info.outHeight *
    info.outWidth *
    info.outChannels *
    info.filterHeight *
    info.filterWidth *
    info.inChannels;
  if (macs < poolMinMacs) return null;
  const pool = nativePool();
  if (!pool) return null;
  pool.reset();
  return pool.fits(floats * 4 + 1024 * pool.threads) ? pool : null;
}

/** dW through the pool: threads take the fixed pixel blocks (DW_BLOCKS) from a counter; then the blocks are added. */
function pooledBackpropFilter(
  pool: NativePool,
  backend: WasmKernelArgs['backend'],
  x: TensorInfo,
  dy: TensorInfo,
  dw: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): void {
  const R = info.filterHeight * info.filterWidth * info.inChannels;
  const Rp = (R + 3) & ~3;
  const Cout = info.outChannels;
  const chunk = chunkFor(Rp);
  const xOff = pool.copyIn(f32(backend, x));
  const dyOff = pool.copyIn(f32(backend, dy));
  const accs = pool.alloc(DW_BLOCKS * Rp * Cout);
  const counter = pool.counter();
  const dims = convDims(info);
  pool.run(
    Array.from({ length: pool.threads }, () => ({
      fn: 'conv2d_backprop_filter_dyn',
      args: [xOff, dyOff, accs, DW_BLOCKS, pool.alloc(chunk * Rp), chunk, counter, ...dims],
    })),
  );
  const sum = pool.alloc(R * Cout);
  pool.kernels.sum_parts(accs, Rp * Cout, DW_BLOCKS, sum, R * Cout);
  f32(backend, dw).set(pool.view(sum, R * Cout));
}

/** dx through the pool: each thread takes whole images (disjoint dx regions). */
function pooledBackpropInput(
  pool: NativePool,
  backend: WasmKernelArgs['backend'],
  dy: TensorInfo,
  filter: TensorInfo,
  dx: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): void {
  const R = info.filterHeight * info.filterWidth * info.inChannels;
  const Cout = info.outChannels;
  const chunk = chunkFor(R);
  const dyOff = pool.copyIn(f32(backend, dy));
  const wOff = pool.copyIn(f32(backend, filter));
  const wt = pool.alloc(R * Cout);
  pool.kernels.transpose_filter(wOff, wt, R, Cout);
  const dxFloats = info.batchSize * info.inHeight * info.inWidth * info.inChannels;
  const dxOff = pool.alloc(dxFloats);
  const counter = pool.counter();
  const dims = convDims(info);
  pool.run(
    Array.from({ length: Math.min(pool.threads, info.batchSize) }, () => ({
      fn: 'conv2d_backprop_input_dyn',
      args: [dyOff, wt, dxOff, pool.alloc(chunk * R), chunk, counter, ...dims],
    })),
  );
  f32(backend, dx).set(pool.view(dxOff, dxFloats));
}

/** Conv2D through the pool: each thread takes chunks of output pixels. */
function pooledConv2D(
  pool: NativePool,
  backend: WasmKernelArgs['backend'],
  x: TensorInfo,
  filter: TensorInfo,
  out: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): void {
  const Rp = (info.filterHeight * info.filterWidth * info.inChannels + 3) & ~3;
  const chunk = chunkFor(Rp);
  const xOff = pool.copyIn(f32(backend, x));
  const wOff = pool.copyIn(f32(backend, filter));
  const outFloats = info.batchSize * info.outHeight * info.outWidth * info.outChannels;
  const outOff = pool.alloc(outFloats);
  const counter = pool.counter();
  const dims = convDims(info);
  pool.run(
    Array.from({ length: pool.threads }, () => ({
      fn: 'conv2d_nhwc_dyn',
      args: [xOff, wOff, outOff, pool.alloc(chunk * Rp), chunk, counter, ...dims],
    })),
  );
  f32(backend, out).set(pool.view(outOff, outFloats));
}

/** colsT[(kh,kw,ci), (n,oh,ow)] = x[n, oh*sH + kh*dH - padT, ow*sW + kw*dW - padL, ci] (0 outside), NHWC x. */
function im2colTransposedNHWC(xv: Float32Array, cv: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const g = convGeometry(info);
  const { N, H, W, Cin, OH, OW, KH, KW, sH, sW, dH, dW, padT, padL } = g;
  const P = N * OH * OW;
  // Walk x in memory order (n, oh, kh, kw, ow, ci): each pixel's Cin values are read contiguously and the few
  // input rows of one output row stay in L1 for all taps. (Row-of-colsT order re-reads x once per (tap, ci)
  // with a Cin-float stride, which is ~2x slower.)
  cv.fill(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const p0 = (n * OH + oh) * OW;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sH + kh * dH - padT;
        if (ih < 0 || ih >= H) continue;
        const xRow = (n * H + ih) * W;
        for (let kw = 0; kw < KW; kw++) {
          const iwOff = kw * dW - padL;
          const [ow0, ow1] = validOutputColumns(iwOff, g);
          const rBase = (kh * KW + kw) * Cin * P + p0;
          if (Cin === 1) {
            let xi = xRow + ow0 * sW + iwOff;
            for (let ow = ow0; ow < ow1; ow++, xi += sW) cv[rBase + ow] = xv[xi];
            continue;
          }
          for (let ow = ow0; ow < ow1; ow++) {
            const xi = (xRow + ow * sW + iwOff) * Cin;
            let o = rBase + ow;
            for (let ci = 0; ci < Cin; ci++, o += P) cv[o] = xv[xi + ci];
          }
        }
      }
    }
  }
}

/** Same as im2colTransposedNHWC for NCHW x. */
function im2colTransposedNCHW(xv: Float32Array, cv: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const g = convGeometry(info);
  const { N, H, W, Cin, OH, OW, KH, KW, sH, sW, dH, dW, padT, padL } = g;
  const P = N * OH * OW;
  cv.fill(0);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const iwOff = kw * dW - padL;
      const [ow0, ow1] = validOutputColumns(iwOff, g);
      for (let ci = 0; ci < Cin; ci++) {
        let p = ((kh * KW + kw) * Cin + ci) * P;
        for (let n = 0; n < N; n++) {
          const plane = (n * Cin + ci) * H * W;
          for (let oh = 0; oh < OH; oh++, p += OW) {
            const ih = oh * sH + kh * dH - padT;
            if (ih < 0 || ih >= H) continue;
            let xi = plane + ih * W + ow0 * sW + iwOff;
            for (let ow = ow0; ow < ow1; ow++, xi += sW) cv[p + ow] = xv[xi];
          }
        }
      }
    }
  }
}

export function conv2DBackpropFilter({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const fmt = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    fmt,
  );
  const { batchSize: N, inChannels: Cin, outHeight: OH, outWidth: OW, outChannels: Cout } = info;
  const { filterHeight: KH, filterWidth: KW } = info;
  const R = KH * KW * Cin;
  const P = N * OH * OW;
  const channelsLast = fmt === 'channelsLast';

  const native = channelsLast && x.dtype === 'float32' && dy.dtype === 'float32' ? nativeKernels(backend) : null;
  if (native) {
    // im2col of a chunk of output pixels (sized to stay in L1/L2) + a 4x8-register-tile SIMD GEMM, per chunk.
    const Rp = (R + 3) & ~3;
    const chunk = chunkFor(Rp);
    const dw = backend.makeOutput([KH, KW, Cin, Cout], 'float32');
    const pool = poolFor(info, size(x.shape) + size(dy.shape) + (DW_BLOCKS + 1) * Rp * Cout + 4 * chunk * Rp);
    if (pool) {
      pooledBackpropFilter(pool, backend, x, dy, dw, info);
      return dw;
    }
    const accs = backend.makeOutput([DW_BLOCKS * Rp * Cout], 'float32');
    const scratch = backend.makeOutput([chunk * Rp], 'float32');
    native.conv2d_backprop_filter_nhwc(
      heapOffset(backend, x),
      heapOffset(backend, dy),
      heapOffset(backend, dw),
      heapOffset(backend, accs),
      DW_BLOCKS,
      heapOffset(backend, scratch),
      chunk,
      ...convDims(info),
    );
    backend.disposeData(accs.dataId);
    backend.disposeData(scratch.dataId);
    return dw;
  }

  const cols = backend.makeOutput([1, R, P], 'float32');
  const dyTmp = channelsLast ? null : backend.makeOutput([1, P, Cout], 'float32');
  // Views only after all allocations.
  if (channelsLast) im2colTransposedNHWC(f32(backend, x), f32(backend, cols), info);
  else im2colTransposedNCHW(f32(backend, x), f32(backend, cols), info);

  let dyMat = reshaped(dy, [1, P, Cout]);
  if (dyTmp) {
    // NCHW dy [N, Cout, OH*OW] -> [N, OH*OW, Cout]
    transposeLast2(f32(backend, dy), f32(backend, dyTmp), N, Cout, OH * OW);
    dyMat = dyTmp;
  }
  const out = matMulNN(backend, cols, dyMat);
  backend.disposeData(cols.dataId);
  if (dyTmp) backend.disposeData(dyTmp.dataId);
  return { dataId: out.dataId, shape: [KH, KW, Cin, Cout], dtype: 'float32' };
}

/**
 * Stride-1 case: dx = conv2d(dy, W') with W'[kh,kw,co,ci] = W[KH-1-kh, KW-1-kw, ci, co] and padding
 * (K-1-pad) on each side, run by the wasm backend's own (XNNPACK) Conv2D kernel.
 */
function backpropInputAsConv(
  backend: WasmKernelArgs['backend'],
  dy: TensorInfo,
  filter: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo | null {
  const { filterHeight: KH, filterWidth: KW, inChannels: Cin, outChannels: Cout } = info;
  const pt = KH - 1 - info.padInfo.top;
  const pb = KH - 1 - info.padInfo.bottom;
  const pl = KW - 1 - info.padInfo.left;
  const pr = KW - 1 - info.padInfo.right;
  if (pt < 0 || pb < 0 || pl < 0 || pr < 0) return null;
  const conv = tf.getKernel('Conv2D', 'wasm');
  if (!conv) return null;
  const wf = backend.makeOutput([KH, KW, Cout, Cin], 'float32');
  const src = f32(backend, filter);
  const dst = f32(backend, wf);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const so = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Cin * Cout;
      const d0 = (kh * KW + kw) * Cout * Cin;
      for (let ci = 0; ci < Cin; ci++) {
        for (let co = 0; co < Cout; co++) dst[d0 + co * Cin + ci] = src[so + ci * Cout + co];
      }
    }
  }
  const out = conv.kernelFunc({
    inputs: { x: dy, filter: wf },
    backend: backend as unknown as tf.KernelBackend,
    attrs: {
      strides: 1,
      pad: [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: 1,
    },
  }) as TensorInfo;
  backend.disposeData(wf.dataId);
  return out;
}

/** Returns a Conv2DBackpropInput kernel that handles NHWC itself and defers NCHW to `fallback`. */
export function makeConv2DBackpropInput(fallback: KernelFunc): KernelFunc {
  return ((args: WasmKernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs;
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DBackpropInputAttrs;
    const fmt = tf.backend_util.convertConv2DDataFormat(dataFormat);
    if (fmt !== 'channelsLast' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const info = tf.backend_util.computeConv2DInfo(
      inputShape as Shape4,
      filter.shape as Shape4,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      fmt,
    );
    const { N, H, W, Cin, OH, OW, Cout, KH, KW, sH, sW, dH, dW, padT, padL } = convGeometry(info);
    const native = nativeKernels(backend);
    if (native) {
      // One SIMD GEMM per L1-sized chunk of output pixels (dcols = dy @ W^T) + col2im into dx: the transposed
      // conv's real work, where the conv route below also multiplies the (K-1)-wide zero borders.
      const R = KH * KW * Cin;
      const chunk = chunkFor(R);
      const dx = backend.makeOutput([...inputShape], 'float32');
      const pool = poolFor(info, N * OH * OW * Cout + 2 * N * H * W * Cin + 3 * R * Cout + 4 * chunk * R);
      if (pool) {
        pooledBackpropInput(pool, backend, dy, filter, dx, info);
        return dx;
      }
      const wt = backend.makeOutput([Cout * R], 'float32');
      const dcols = backend.makeOutput([chunk * R], 'float32');
      native.conv2d_backprop_input_nhwc(
        heapOffset(backend, dy),
        heapOffset(backend, filter),
        heapOffset(backend, dx),
        heapOffset(backend, wt),
        heapOffset(backend, dcols),
        chunk,
        ...convDims(info),
      );
      backend.disposeData(wt.dataId);
      backend.disposeData(dcols.dataId);
      return dx;
    }
    if (sH === 1 && sW === 1 && dH === 1 && dW === 1) {
      const viaConv = backpropInputAsConv(backend, dy, filter, info);
      if (viaConv) return viaConv;
    }
    const R = KH * KW * Cin;
    const P = N * OH * OW;

    const wT = backend.makeOutput([1, Cout, R], 'float32');
    transposeLast2(f32(backend, filter), f32(backend, wT), 1, R, Cout);
    const dcols = matMulNN(backend, reshaped(dy, [1, P, Cout]), wT);
    backend.disposeData(wT.dataId);
    const dx = backend.makeOutput([...inputShape], 'float32');
    const dxv = f32(backend, dx);
    const dc = f32(backend, dcols);
    dxv.fill(0);
    let p = 0;
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < OH; oh++) {
        const ihBase = oh * sH - padT;
        for (let ow = 0; ow < OW; ow++, p++) {
          const iwBase = ow * sW - padL;
          const cBase = p * R;
          for (let kh = 0; kh < KH; kh++) {
            const ih = ihBase + kh * dH;
            if (ih < 0 || ih >= H) continue;
            const rowBase = (n * H + ih) * W;
            for (let kw = 0; kw < KW; kw++) {
              const iw = iwBase + kw * dW;
              if (iw < 0 || iw >= W) continue;
              const xo = (rowBase + iw) * Cin;
              const co = cBase + (kh * KW + kw) * Cin;
              for (let ci = 0; ci < Cin; ci++) dxv[xo + ci] += dc[co + ci];
            }
          }
        }
      }
    }
    backend.disposeData(dcols.dataId);
    return dx;
  }) as unknown as KernelFunc;
}

/**
 * Conv2D (NHWC, float32) as native im2col + SIMD GEMM across the thread pool (native-pool.ts); without the pool,
 * and for other layouts and dtypes, the wasm backend's XNNPACK kernel.
 */
export function makeConv2D(fallback: KernelFunc): KernelFunc {
  return ((args: WasmKernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x, filter } = inputs;
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
    const native = nativeKernels(backend);
    const fmt = tf.backend_util.convertConv2DDataFormat(dataFormat);
    // Cin < 4: XNNPACK's direct conv beats im2col even with two threads (first layers on images).
    const cin = x.shape[fmt === 'channelsLast' ? 3 : 1] ?? 0;
    if (!native || cin < 4 || fmt !== 'channelsLast' || x.dtype !== 'float32' || filter.dtype !== 'float32') {
      return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4,
      filter.shape as Shape4,
      strides,
      dilations,
      pad,
      dimRoundingMode,
      false,
      fmt,
    );
    const { N, H, W, Cin, OH, OW, Cout, KH, KW } = convGeometry(info);
    const Rp = (KH * KW * Cin + 3) & ~3;
    const chunk = chunkFor(Rp);
    // Only through the pool: on one thread XNNPACK's conv is as fast as ours (faster for Cin = 1).
    const pool = poolFor(info, N * H * W * Cin + KH * KW * Cin * Cout + N * OH * OW * Cout + 4 * chunk * Rp);
    if (!pool) return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    const out = backend.makeOutput(info.outShape, 'float32');
    pooledConv2D(pool, backend, x, filter, out, info);
    return out;
  }) as unknown as KernelFunc;
}
