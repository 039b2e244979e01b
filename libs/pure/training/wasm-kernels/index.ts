/**
 * Training kernels for the TF.js wasm backend.
 *
 * tfjs-backend-wasm 4.22 has no kernels for Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput and UnsortedSegmentSum, so tf.layers conv1d/conv2d/separable/depthwise
 * conv and embedding layers cannot be trained on it. Some existing kernels used by training are slow
 * (transposed BatchMatMul, Conv2DBackpropInput, MaxPoolGrad); those are replaced by faster versions that
 * defer to the original kernel for the cases they do not handle.
 *
 * Relu's and ClipByValue's gradients (relu.ts) and Adam steps (adam.ts) on wasm go through one fused kernel each
 * (instead of 3, 5 and ~14 element-wise kernels), and tensors saved for backprop skip the engine's clone kernel
 * (saved-tensors.ts).
 *
 * Call registerWasmTrainingKernels() once (idempotent), before or after tf.setBackend('wasm').
 */
import '@tensorflow/tfjs-backend-wasm';

import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

import { FUSED_ADAM_KERNEL, fusedAdamKernel, installFusedAdam } from './adam.js';
import { conv2DBackpropFilter, makeConv2D, makeConv2DBackpropInput } from './conv2d.js';
import { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise.js';
import { setNativeBatchMatMul } from './heap.js';
import { makeBatchMatMul } from './matmul.js';
import { makeAdd, makeGatherV2, makeIdentity, makeSlice, makeSum } from './misc.js';
import { makeMaxPoolGrad } from './pool.js';
import {
  CLIP_GRAD_KERNEL,
  clipByValueGradKernel,
  installClipByValueGrad,
  installReluGrad,
  RELU_GRAD_KERNEL,
  reluGradKernel,
} from './relu.js';
import { installCheapSavedTensors } from './saved-tensors.js';
import { unsortedSegmentSum } from './segment.js';

const BACKEND = 'wasm';
let registered = false;

/** Kernels added (missing from tfjs-backend-wasm). */
export const ADDED_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
] as const;

/** Built-in wasm kernels replaced by faster versions (the originals remain the fallback). */
export const REPLACED_KERNELS = [
  'BatchMatMul',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'Identity',
  'GatherV2',
  'Sum',
  'Slice',
  'Add',
  'Conv2D',
] as const;

function put(config: KernelConfig): void {
  if (tf.getKernel(config.kernelName, BACKEND)) tf.unregisterKernel(config.kernelName, BACKEND);
  tf.registerKernel(config);
}

function replace(name: string, make: (native: KernelFunc) => KernelFunc): void {
  const native = tf.getKernel(name, BACKEND);
  if (!native) throw new Error(`wasm-kernels: the wasm backend has no ${name} kernel to wrap`);
  if (name === 'BatchMatMul') setNativeBatchMatMul(native.kernelFunc);
  // Keep the native setupFunc: it cwraps the wasm function the fallback needs.
  put({ ...native, kernelFunc: make(native.kernelFunc) } as KernelConfig);
}

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  replace('BatchMatMul', makeBatchMatMul);
  replace('Conv2DBackpropInput', makeConv2DBackpropInput);
  replace('MaxPoolGrad', makeMaxPoolGrad);
  replace('Identity', makeIdentity);
  replace('GatherV2', makeGatherV2);
  replace('Sum', makeSum);
  replace('Slice', makeSlice);
  replace('Add', makeAdd);
  replace('Conv2D', makeConv2D);
  const add = (kernelName: string, kernelFunc: unknown) =>
    put({ kernelName, backendName: BACKEND, kernelFunc: kernelFunc as KernelFunc });
  add('Conv2DBackpropFilter', conv2DBackpropFilter);
  add('DepthwiseConv2dNativeBackpropFilter', depthwiseConv2dNativeBackpropFilter);
  add('DepthwiseConv2dNativeBackpropInput', depthwiseConv2dNativeBackpropInput);
  add('UnsortedSegmentSum', unsortedSegmentSum);
  add(FUSED_ADAM_KERNEL, fusedAdamKernel);
  installFusedAdam();
  add(RELU_GRAD_KERNEL, reluGradKernel);
  installReluGrad();
  add(CLIP_GRAD_KERNEL, clipByValueGradKernel);
  installClipByValueGrad();
  installCheapSavedTensors();
}
