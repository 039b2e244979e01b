/**
 * Cheaper tensors saved for backprop on the wasm backend.
 *
 * While recording a gradient tape, tfjs's engine saves each op's inputs/outputs that its gradient needs as
 * `keep(clone(t))`, and a clone is a full engine kernel call (Identity) plus a tape node. An LSTM step over 49
 * timesteps saves ~2,400 tensors, and that bookkeeping was about half of its ~50 ms step. On wasm, Identity
 * only shares the data (misc.ts makeIdentity), so the same result is had directly: one backend reference and
 * one engine tensor on the same data, kept. The saved copy never needs a tape node of its own in a
 * first-order gradient (it feeds only the backward pass); for higher-order gradients (the engine recording
 * more than one tape deep) and for strings, tfjs's own clone is used.
 */
import * as tf from '@tensorflow/tfjs';

interface EngineInternals {
  backendName: string;
  backend: { incRef(dataId: object): void };
  state: { gradientDepth: number };
  clone(t: tf.Tensor): tf.Tensor;
  keep<T extends tf.Tensor>(t: T): T;
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: tf.DataType }, backend?: unknown): tf.Tensor;
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
}

let installed = false;

export function installCheapSavedTensors(): void {
  if (installed) return;
  installed = true;
  const proto = Object.getPrototypeOf(tf.engine()) as EngineInternals;
  const original = proto.saveTensorsForBackwardMode;
  if (typeof original !== 'function') throw new Error('wasm-kernels: tfjs engine has no saveTensorsForBackwardMode');
  proto.saveTensorsForBackwardMode = function saveTensorsForBackwardMode(this: EngineInternals, tensors: tf.Tensor[]) {
    if (this.backendName !== 'wasm' || this.state.gradientDepth > 1) return original.call(this, tensors);
    return tensors.map((t) => {
      if (t.dtype === 'string') return this.keep(this.clone(t));
      this.backend.incRef(t.dataId);
      return this.keep(
        this.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }, this.backend),
      );
    });
  };
}
