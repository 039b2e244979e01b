/**
 * Relu's and ClipByValue's gradients on the wasm backend as one native pass each.
 *
 * tfjs differentiates Relu as mul(dy, cast(step(x), 'float32')): three kernels over the whole activation
 * (~0.45 ms for the bench CNN's [64,26,26,16] layer), and ClipByValue (hardSigmoid, the LSTM/GRU gates'
 * default, once per gate per timestep) as where(logicalAnd(x >= lo, x <= hi), dy, zerosLike(dy)): five.
 * `installReluGrad` / `installClipByValueGrad` re-register those gradients so that, on wasm with the native
 * kernels loaded and float32 tensors, they run `ReluGradWasm` / `ClipByValueGradWasm` (native/kernels.c, the
 * same semantics: NaN and Infinity included); anywhere else they run tfjs's own formula.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike, WasmKernelArgs } from './heap.js';
import { heapOffset, nativeKernels } from './native.js';

export const RELU_GRAD_KERNEL = 'ReluGradWasm';
export const CLIP_GRAD_KERNEL = 'ClipByValueGradWasm';

export function reluGradKernel({ inputs, backend }: WasmKernelArgs): TensorInfo {
  const { dy, x } = inputs;
  const native = nativeKernels(backend);
  if (!native) throw new Error(`${RELU_GRAD_KERNEL}: the native wasm kernels are not loaded`);
  const dx = backend.makeOutput([...x.shape], 'float32');
  native.relu_grad(heapOffset(backend, dy), heapOffset(backend, x), heapOffset(backend, dx), tf.util.sizeFromShape(x.shape));
  return dx;
}

let installed = false;

export function installReluGrad(): void {
  if (installed) return;
  installed = true;
  const original = tf.getGradient('Relu');
  if (!original) throw new Error('wasm-kernels: tfjs has no gradient registered for Relu');
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const dyT = dy as tf.Tensor;
      if (
        x && tf.getBackend() === 'wasm' && x.dtype === 'float32' && dyT.dtype === 'float32' &&
        tf.util.arraysEqual(x.shape, dyT.shape) && nativeKernels(tf.backend() as unknown as WasmBackendLike)
      ) {
        return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dyT, x } as unknown as tf.NamedTensorMap) as tf.Tensor };
      }
      return original.gradFunc(dy, saved, attrs);
    },
  });
}

export function clipByValueGradKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, x } = inputs;
  const native = nativeKernels(backend);
  if (!native) throw new Error(`${CLIP_GRAD_KERNEL}: the native wasm kernels are not loaded`);
  const { clipValueMin, clipValueMax } = attrs as unknown as { clipValueMin: number; clipValueMax: number };
  const dx = backend.makeOutput([...x.shape], 'float32');
  native.clip_grad(heapOffset(backend, dy), heapOffset(backend, x), heapOffset(backend, dx), tf.util.sizeFromShape(x.shape), clipValueMin, clipValueMax);
  return dx;
}

let clipInstalled = false;

export function installClipByValueGrad(): void {
  if (clipInstalled) return;
  clipInstalled = true;
  const original = tf.getGradient('ClipByValue');
  if (!original) throw new Error('wasm-kernels: tfjs has no gradient registered for ClipByValue');
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const dyT = dy as tf.Tensor;
      if (
        x && tf.getBackend() === 'wasm' && x.dtype === 'float32' && dyT.dtype === 'float32' &&
        tf.util.arraysEqual(x.shape, dyT.shape) && nativeKernels(tf.backend() as unknown as WasmBackendLike)
      ) {
        return { x: () => tf.engine().runKernel(CLIP_GRAD_KERNEL, { dy: dyT, x } as unknown as tf.NamedTensorMap, attrs) as tf.Tensor };
      }
      return original.gradFunc(dy, saved, attrs);
    },
  });
}
