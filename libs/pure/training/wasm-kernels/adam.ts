/**
 * Fused Adam step on the wasm backend.
 *
 * tfjs's AdamOptimizer.applyGradients runs ~14 element-wise kernels per variable, each with the engine's
 * per-kernel bookkeeping and a fresh scalar upload for every constant; for a small CNN that was ~3 ms of a
 * ~15 ms step. `FusedAdamWasm` does the same float32 arithmetic in one SIMD pass (native/kernels.c
 * adam_update) and returns the new value and moments. `installFusedAdam` routes AdamOptimizer.applyGradients
 * through it when the active backend is wasm with the native kernels loaded, and keeps the optimizer's state
 * (moment variables, accBeta1/2, iterations) exactly as tfjs keeps it, so getWeights/setWeights and checkpoints
 * are unchanged. Anything else (another backend, a non-float32 gradient) takes tfjs's own path.
 */
import type { NamedTensorMap, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

import { f32, type WasmKernelArgs } from './heap.js';
import { activeNativeKernels, heapOffset, nativeKernels } from './native.js';

export const FUSED_ADAM_KERNEL = 'FusedAdamWasm';

interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

/** inputs: value, gradient, m, v (same shape, float32), accBeta1, accBeta2 (scalars); outputs: [value', m', v']. */
export function fusedAdamKernel({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const { value, gradient, m, v, accBeta1, accBeta2 } = inputs;
  const native = nativeKernels(backend);
  if (!native) throw new Error(`${FUSED_ADAM_KERNEL}: the native wasm kernels are not loaded`);
  const { beta1, beta2, epsilon, learningRate } = attrs as unknown as AdamAttrs;
  // 1 - accBeta in float32, as tfjs's sub(1, accBeta) computes it.
  const oneMinusAccBeta1 = Math.fround(1 - f32(backend, accBeta1)[0]!);
  const oneMinusAccBeta2 = Math.fround(1 - f32(backend, accBeta2)[0]!);
  const n = f32(backend, value).length;
  const outValue = backend.makeOutput([...value.shape], 'float32');
  const outM = backend.makeOutput([...value.shape], 'float32');
  const outV = backend.makeOutput([...value.shape], 'float32');
  native.adam_update(
    heapOffset(backend, value),
    heapOffset(backend, gradient),
    heapOffset(backend, m),
    heapOffset(backend, v),
    heapOffset(backend, outValue),
    heapOffset(backend, outM),
    heapOffset(backend, outV),
    n,
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    oneMinusAccBeta1,
    oneMinusAccBeta2,
    epsilon,
    -learningRate,
  );
  return [outValue, outM, outV];
}

/** The fields of tfjs-core's AdamOptimizer that its applyGradients uses. */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
  incrementIterations(): void;
}

type ApplyGradients = (
  this: tf.AdamOptimizer,
  grads: NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>,
) => void;

let installed = false;

export function installFusedAdam(): void {
  if (installed) return;
  installed = true;
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients };
  const original = proto.applyGradients;
  proto.applyGradients = function applyGradients(this: tf.AdamOptimizer, variableGradients) {
    if (!canFuse(variableGradients)) return original.call(this, variableGradients);
    const self = this as unknown as AdamInternals;
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const attrs = { beta1: self.beta1, beta2: self.beta2, epsilon: self.epsilon, learningRate: self.learningRate };
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        // Same lazily created, non-trainable moment variables (and names) as tfjs.
        self.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        self.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i]!.variable;
        const v = self.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = tf
          .engine()
          .runKernel(
            FUSED_ADAM_KERNEL,
            { value, gradient, m, v, accBeta1: self.accBeta1, accBeta2: self.accBeta2 } as unknown as tf.NamedTensorMap,
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  };
}

function canFuse(variableGradients: NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>): boolean {
  if (!activeNativeKernels()) return false;
  const grads = Array.isArray(variableGradients)
    ? variableGradients.map((g) => g.tensor)
    : Object.values(variableGradients);
  return grads.every((g) => g == null || g.dtype === 'float32');
}
