/**
 * UnsortedSegmentSum (missing in tfjs-backend-wasm; needed by the gradient of Gather, i.e. embeddings).
 * TF semantics: segmentIds.shape is a prefix of x.shape; out = [numSegments, ...x.shape[segmentIds.rank:]];
 * ids outside [0, numSegments) are dropped.
 */
import type { TensorInfo, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs';

import { i32, size, view, type WasmKernelArgs } from './heap.js';

export function unsortedSegmentSum({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x, segmentIds } = inputs;
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  const nIds = size(segmentIds.shape);
  const inner = nIds === 0 ? 0 : size(x.shape) / nIds;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  const ov = view(backend, out);
  const xv = view(backend, x);
  ov.fill(0);
  const ids = segmentIds.dtype === 'int32' ? i32(backend, segmentIds) : view(backend, segmentIds);
  for (let i = 0; i < nIds; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const xo = i * inner;
    for (let j = 0; j < inner; j++) ov[o + j] += xv[xo + j];
  }
  return out;
}
