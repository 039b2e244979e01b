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
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

import type { WasmKernelArgs } from './heap.js';
import { activeNativeKernels, heapOffset, type NativeKernels, nativeKernels } from './native.js';

export const RELU_GRAD_KERNEL = 'ReluGradWasm';
export const CLIP_GRAD_KERNEL = 'ClipByValueGradWasm';

/** A kernel dx = f(dy, x) for a float32 x and dy of one shape, run by `pass` over the heap. */
function gradientKernel(
  name: string,
  pass: (native: NativeKernels, dy: number, x: number, dx: number, n: number, attrs: NamedAttrMap) => void,
): (args: WasmKernelArgs) => TensorInfo {
  return ({ inputs, backend, attrs }) => {
    const { dy, x } = inputs;
    const native = nativeKernels(backend);
    if (!native) throw new Error(`${name}: the native wasm kernels are not loaded`);
    const dx = backend.makeOutput([...x.shape], 'float32');
    pass(
      native,
      heapOffset(backend, dy),
      heapOffset(backend, x),
      heapOffset(backend, dx),
      tf.util.sizeFromShape(x.shape),
      attrs,
    );
    return dx;
  };
}

export const reluGradKernel = gradientKernel(RELU_GRAD_KERNEL, (native, dy, x, dx, n) =>
  native.relu_grad(dy, x, dx, n),
);

export const clipByValueGradKernel = gradientKernel(CLIP_GRAD_KERNEL, (native, dy, x, dx, n, attrs) => {
  const { clipValueMin, clipValueMax } = attrs as unknown as { clipValueMin: number; clipValueMax: number };
  native.clip_grad(dy, x, dx, n, clipValueMin, clipValueMax);
});

const rerouted = new Set<string>();

/**
 * Re-registers the gradient of `op` (whose only saved tensor is its input x) to run `kernel` when tfjs is on
 * wasm with the native kernels loaded and x, dy are float32 of one shape; otherwise tfjs's own gradient.
 */
function routeGradient(op: string, kernel: string): void {
  if (rerouted.has(op)) return;
  rerouted.add(op);
  const original = tf.getGradient(op);
  if (!original) throw new Error(`wasm-kernels: tfjs has no gradient registered for ${op}`);
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const dyT = dy as tf.Tensor;
      if (
        x &&
        x.dtype === 'float32' &&
        dyT.dtype === 'float32' &&
        tf.util.arraysEqual(x.shape, dyT.shape) &&
        activeNativeKernels()
      ) {
        return {
          x: () => tf.engine().runKernel(kernel, { dy: dyT, x } as unknown as tf.NamedTensorMap, attrs) as tf.Tensor,
        };
      }
      return original.gradFunc(dy, saved, attrs);
    },
  });
}

export function installReluGrad(): void {
  routeGradient('Relu', RELU_GRAD_KERNEL);
}

export function installClipByValueGrad(): void {
  routeGradient('ClipByValue', CLIP_GRAD_KERNEL);
}
