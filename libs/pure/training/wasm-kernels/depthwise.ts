/**
 * DepthwiseConv2dNativeBackpropFilter / DepthwiseConv2dNativeBackpropInput (both missing in
 * tfjs-backend-wasm). NHWC only (as in tfjs), strides, dilations, 'same'/'valid'/explicit padding.
 * Tight JS loops over the wasm heap; depthwise work is O(size * KH * KW), so no matmul is needed.
 * The two kernels walk the taps in the same loops, written out in each: a shared walker calling back per tap was
 * slower in a same-process A/B (filter gradient at 3 channels: 6.4 ms inline, 18.9 ms through the callback).
 */
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  TensorInfo,
} from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

import { convGeometry } from './conv-geometry.js';
import { f32, type WasmKernelArgs } from './heap.js';

type Shape4 = [number, number, number, number];

function depthwiseInfo(
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs | DepthwiseConv2dNativeBackpropInputAttrs,
): tf.backend_util.Conv2DInfo {
  const { strides, dilations, pad, dimRoundingMode } = attrs;
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
}

export function depthwiseConv2dNativeBackpropFilter({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x, dy } = inputs;
  const attributes = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const g = convGeometry(depthwiseInfo(x.shape, attributes.filterShape, attributes));
  const { N, H, W, Cin: C, OH, OW, Cout: CM, KH, KW, sH, sW, dH, dW, padT, padL } = g;
  const M = CM / C;

  const dw = backend.makeOutput([KH, KW, C, M], 'float32');
  const xv = f32(backend, x);
  const dyv = f32(backend, dy);
  // Accumulate in float64: each filter tap sums N*OH*OW products.
  const acc = new Float64Array(KH * KW * CM);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihBase = oh * sH - padT;
      for (let ow = 0; ow < OW; ow++) {
        const iwBase = ow * sW - padL;
        const dyo = ((n * OH + oh) * OW + ow) * CM;
        for (let kh = 0; kh < KH; kh++) {
          const ih = ihBase + kh * dH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = iwBase + kw * dW;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            const wo = (kh * KW + kw) * CM;
            if (M === 1) {
              for (let c = 0; c < C; c++) acc[wo + c] += xv[xo + c] * dyv[dyo + c];
            } else {
              for (let c = 0; c < C; c++) {
                const xval = xv[xo + c];
                const b = c * M;
                for (let m = 0; m < M; m++) acc[wo + b + m] += xval * dyv[dyo + b + m];
              }
            }
          }
        }
      }
    }
  }
  f32(backend, dw).set(acc);
  return dw;
}

export function depthwiseConv2dNativeBackpropInput({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, filter } = inputs;
  const attributes = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const g = convGeometry(depthwiseInfo(attributes.inputShape, filter.shape, attributes));
  const { N, H, W, Cin: C, OH, OW, Cout: CM, KH, KW, sH, sW, dH, dW, padT, padL } = g;
  const M = CM / C;

  const dx = backend.makeOutput([...attributes.inputShape], 'float32');
  const dxv = f32(backend, dx);
  const dyv = f32(backend, dy);
  const wv = f32(backend, filter);
  dxv.fill(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ihBase = oh * sH - padT;
      for (let ow = 0; ow < OW; ow++) {
        const iwBase = ow * sW - padL;
        const dyo = ((n * OH + oh) * OW + ow) * CM;
        for (let kh = 0; kh < KH; kh++) {
          const ih = ihBase + kh * dH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = iwBase + kw * dW;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            const wo = (kh * KW + kw) * CM;
            if (M === 1) {
              for (let c = 0; c < C; c++) dxv[xo + c] += wv[wo + c] * dyv[dyo + c];
            } else {
              for (let c = 0; c < C; c++) {
                const b = c * M;
                let s = 0;
                for (let m = 0; m < M; m++) s += wv[wo + b + m] * dyv[dyo + b + m];
                dxv[xo + c] += s;
              }
            }
          }
        }
      }
    }
  }
  return dx;
}
