import type * as tf from '@tensorflow/tfjs';

/** A conv's sizes under the short names of the kernels' index arithmetic, read once from tfjs' Conv2DInfo. */
export interface ConvGeometry {
  N: number;
  H: number;
  W: number;
  Cin: number;
  OH: number;
  OW: number;
  Cout: number;
  KH: number;
  KW: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  padT: number;
  padL: number;
}

export function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    N: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    Cin: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    Cout: info.outChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    dH: info.dilationHeight,
    dW: info.dilationWidth,
    padT: info.padInfo.top,
    padL: info.padInfo.left,
  };
}

/** The output columns [first, end) whose input column ow * sW + offset lies inside the row (0 <= it < W). */
export function validOutputColumns(offset: number, g: ConvGeometry): [first: number, end: number] {
  const first = Math.min(g.OW, offset >= 0 ? 0 : Math.ceil(-offset / g.sW));
  return [first, Math.min(g.OW, Math.ceil((g.W - offset) / g.sW))];
}
