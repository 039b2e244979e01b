/**
 * WGSL kernels that replace tfjs-backend-webgpu's own for the training step (registered for the `webgpu` backend,
 * as libs/pure/training/wasm-kernels registers its own for wasm).
 *
 * Conv2DBackpropFilter: tfjs-backend-webgpu 4.x (Conv2DDerFilterProgram) runs ONE thread per filter element, and
 * that thread loops over batch x outHeight x outWidth: the first conv of the bench CNN (3x3x1x16) is 144 threads,
 * each walking 692k positions at batch 1024 (300 ms of a 303 ms GPU step on an H200). Here the same sum is a split
 * reduction (implicit GEMM dW[k, d2] = sum_m patch(x)[m, k] * dy[m, d2] with m = (batch, outRow, outCol)):
 *  - pass 1: a workgroup of 256 threads per (block of output channels, input channel d1, slice of m) sums all
 *    fH*fW taps of d1 (one dy load per position serves fH*fW products; filters over 16 taps: one tap per
 *    workgroup); lanes run over output channels (dy reads are coalesced, the x value is shared by the lanes),
 *    groups of lanes over m; the groups are summed in workgroup memory in a fixed order;
 *  - pass 2 (only when m is split over several workgroups): sums the slices' partial filters in a fixed order.
 * The result is deterministic (same order every run); it differs from tfjs's serial sum only by float rounding.
 * 1.27 ms per step at batch 1024 on the H200 (bench/README.md, "replacement WGSL kernels").
 *
 * Off with TRAINING_WEBGPU_KERNELS=0 (see webgpu.ts); NCHW data falls back to tfjs-backend-webgpu's kernel.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-webgpu's WebGPUBackend (4.x) these kernels use. */
interface WebgpuProgramBackend {
  runWebGPUProgram(
    program: object,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms?: Array<{ type: string; data: number[] }>,
  ): tf.TensorInfo;
  disposeData(dataId: object): void;
}

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | unknown;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Threads per workgroup of pass 1 (lanes x groups of lanes). */
const WORKGROUP = 256;
/** Aim for at least this many workgroups in pass 1 (an H100/H200 has 132 SMs). */
const TARGET_WORKGROUPS = 1024;
/** ... but give each thread at least this many positions of m to sum, */
const MIN_POSITIONS_PER_THREAD = 32;
/** ... and split m in at most this many slices (pass 2 sums them serially per filter element). */
const MAX_SLICES = 256;
/** A workgroup sums all taps of a filter (one dy load serves fH*fW products) when there are at most this many. */
const MAX_TAPS_PER_WORKGROUP = 16;

/**
 * Pass 1: partial filter gradients, output [slices * fH, fW, inC, outC] (slice s = rows s*fH .. s*fH+fH-1).
 * A workgroup owns (block of output channels, tap group, slice of m). A tap group is all fH*fW taps of one input
 * channel d1 (tapsPerGroup = fH*fW: each thread keeps fH*fW sums and loads dy once per position) or, for large
 * filters, a single tap (tapsPerGroup = 1).
 */
class ConvFilterPartialsProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1], z: [2, 3] };
  dispatch: [number, number, number];
  variableNames = ['x', 'dy'];
  uniforms = 'pads : vec2<i32>, strides : vec2<i32>, filterHW : vec2<i32>, chunk : i32, slices : i32, blocks : i32,';
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(
    filterShape: number[],
    slices: number,
    private readonly lanes: number,
    blocks: number,
    private readonly tapsPerGroup: number,
  ) {
    const [fH, fW, inC, outC] = filterShape;
    this.outputShape = [slices * fH, fW, inC, outC];
    this.dispatch = [((fH * fW * inC) / tapsPerGroup) * blocks * slices, 1, 1];
    this.shaderKey = `gpuConvFilterPartials_${lanes}_${tapsPerGroup}`;
  }

  getUserCode(): string {
    const lanes = this.lanes;
    const groups = WORKGROUP / lanes;
    const taps = this.tapsPerGroup;
    // Tap t of this workgroup: (wR, wC) and its flat filter index k = (wR * fW + wC) * inC + d1.
    const tapGroup =
      taps === 1
        ? `let k0 = tapGroup;
         let d1 = k0 % inC;
         let wC0 = (k0 / inC) % uniforms.filterHW.y;
         let wR0 = k0 / (inC * uniforms.filterHW.y);`
        : 'let d1 = tapGroup;';
    const tapOf =
      taps === 1
        ? 'let wR = wR0; let wC = wC0;'
        : 'let wR = t / uniforms.filterHW.y; let wC = t % uniforms.filterHW.y;';
    return /* wgsl */ `
      var<workgroup> sums : array<f32, ${WORKGROUP}>;
      fn main() {
        // tfjs may reshape a long 1-D dispatch into 2-D/3-D: linearize the workgroup id.
        let wg = i32(workgroupId.x + workgroupId.y * numWorkgroups.x +
                     workgroupId.z * numWorkgroups.x * numWorkgroups.y);
        let inC = uniforms.xShape[3];
        let outC = uniforms.dyShape[3];
        let fTaps = uniforms.filterHW.x * uniforms.filterHW.y * inC;
        let tapGroups = fTaps / ${taps};
        let block = wg % uniforms.blocks;
        let tapGroup = (wg / uniforms.blocks) % tapGroups;
        let s = wg / (uniforms.blocks * tapGroups);
        ${tapGroup}
        let lane = i32(localIndex) % ${lanes};
        let group = i32(localIndex) / ${lanes};
        let d2 = block * ${lanes} + lane;
        let outH = uniforms.dyShape[1];
        let outW = uniforms.dyShape[2];
        let inH = uniforms.xShape[1];
        let inW = uniforms.xShape[2];
        let total = uniforms.dyShape[0] * outH * outW;
        let begin = s * uniforms.chunk;
        let end = min(begin + uniforms.chunk, total);
        let live = s < uniforms.slices && d2 < outC;
        var acc : array<f32, ${taps}>;
        for (var t = 0; t < ${taps}; t = t + 1) { acc[t] = 0.0; }
        if (live) {
          for (var m = begin + group; m < end; m = m + ${groups}) {
            let b = m / (outH * outW);
            let rc = m % (outH * outW);
            let r0 = (rc / outW) * uniforms.strides.x - uniforms.pads.x;
            let c0 = (rc % outW) * uniforms.strides.y - uniforms.pads.y;
            let g = dy[m * outC + d2];
            for (var t = 0; t < ${taps}; t = t + 1) {
              ${tapOf}
              let xR = r0 + wR;
              let xC = c0 + wC;
              if (xR >= 0 && xR < inH && xC >= 0 && xC < inW) {
                acc[t] = acc[t] + x[((b * inH + xR) * inW + xC) * inC + d1] * g;
              }
            }
          }
        }
        for (var t = 0; t < ${taps}; t = t + 1) {
          sums[localIndex] = acc[t];
          workgroupBarrier();
          if (group == 0 && live) {
            var sum = 0.0;
            for (var j = 0; j < ${groups}; j = j + 1) {
              sum = sum + sums[j * ${lanes} + lane];
            }
            ${tapOf}
            let k = (wR * uniforms.filterHW.y + wC) * inC + d1;
            result[(s * fTaps + k) * outC + d2] = sum;
          }
          workgroupBarrier();
        }
      }`;
  }
}

/** Pass 2: sums the slices of pass 1 into the filter gradient (four running sums, combined in a fixed order). */
class SumSlicesProgram {
  outputShape: number[];
  shaderKey = 'gpuSumSlices';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ['partials'];
  uniforms = 'slices : i32,';
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(filterShape: number[]) {
    this.outputShape = filterShape;
    this.dispatchLayout = { x: filterShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(filterShape.reduce((a, b) => a * b, 1) / 64), 1, 1];
  }

  getUserCode(): string {
    return /* wgsl */ `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var a = vec4<f32>(0.0);
          var s = 0;
          for (; s + 3 < uniforms.slices; s = s + 4) {
            a = a + vec4<f32>(partials[s * uniforms.size + index], partials[(s + 1) * uniforms.size + index],
                              partials[(s + 2) * uniforms.size + index], partials[(s + 3) * uniforms.size + index]);
          }
          for (; s < uniforms.slices; s = s + 1) {
            a.x = a.x + partials[s * uniforms.size + index];
          }
          setOutputAtIndex(index, (a.x + a.y) + (a.z + a.w));
        }
      }`;
  }
}

/**
 * How pass 1 splits the work: output-channel lanes per workgroup, blocks of them, taps per workgroup, slices of m.
 * `oneTap` (TRAINING_WEBGPU_CONV_FILTER=tap) forces one tap per workgroup, the first version, for comparison.
 */
export function convFilterPlan(
  filterShape: number[],
  positions: number,
  oneTap = false,
): {
  lanes: number;
  blocks: number;
  tapsPerGroup: number;
  slices: number;
  chunk: number;
} {
  const [fH, fW, inC, outC] = filterShape;
  let lanes = 1;
  while (lanes < outC && lanes < 64) lanes *= 2;
  const blocks = Math.ceil(outC / lanes);
  const groups = WORKGROUP / lanes;
  const tapsPerGroup = !oneTap && fH * fW <= MAX_TAPS_PER_WORKGROUP ? fH * fW : 1;
  const base = ((fH * fW * inC) / tapsPerGroup) * blocks;
  const maxSlices = Math.max(1, Math.min(MAX_SLICES, Math.floor(positions / (groups * MIN_POSITIONS_PER_THREAD))));
  const wanted = Math.min(maxSlices, Math.max(1, Math.ceil(TARGET_WORKGROUPS / base)));
  const chunk = Math.ceil(positions / wanted);
  return { lanes, blocks, tapsPerGroup, slices: Math.ceil(positions / chunk), chunk };
}

type KernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: object }) => tf.TensorInfo;

function conv2DBackpropFilter(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: object },
  fallback: KernelFunc,
): tf.TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs as Conv2DBackpropFilterAttrs;
  const backend = args.backend as WebgpuProgramBackend;
  if (!x || !dy || !kernelsEnabled || attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
    return fallback(args);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const positions = info.batchSize * info.outHeight * info.outWidth;
  if (positions === 0) return fallback(args);
  const plan = convFilterPlan(attrs.filterShape, positions, oneTapPerWorkgroup);
  webgpuKernelStats.conv2DBackpropFilter++;
  const uniforms = [
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.filterHeight, info.filterWidth] },
    { type: 'int32', data: [plan.chunk] },
    { type: 'int32', data: [plan.slices] },
    { type: 'int32', data: [plan.blocks] },
  ];
  const partials = backend.runWebGPUProgram(
    new ConvFilterPartialsProgram(attrs.filterShape, plan.slices, plan.lanes, plan.blocks, plan.tapsPerGroup),
    [x, dy],
    'float32',
    uniforms,
  );
  if (plan.slices === 1) return partials;
  const out = backend.runWebGPUProgram(new SumSlicesProgram(attrs.filterShape), [partials], 'float32', [
    { type: 'int32', data: [plan.slices] },
  ]);
  backend.disposeData(partials.dataId);
  return out;
}

/** How often each replacement ran (tests check that the webgpu path really used them). */
export const webgpuKernelStats = { conv2DBackpropFilter: 0 };

let kernelsEnabled = true;
/** TRAINING_WEBGPU_CONV_FILTER=tap: one filter tap per workgroup (the first version), to compare on a GPU. */
const oneTapPerWorkgroup = process.env.TRAINING_WEBGPU_CONV_FILTER === 'tap';
let installed = false;

/** Turns the replacement kernels on or off (registers them for `webgpu` once; tfjs's own stay as the fallback). */
export function setWebgpuKernels(on: boolean): void {
  kernelsEnabled = on;
  if (!on || installed) return;
  const original = tf.getKernel('Conv2DBackpropFilter', 'webgpu');
  if (!original) return; // tfjs-backend-webgpu not imported yet: setupWebgpu imports it first.
  installed = true;
  const fallback = original.kernelFunc as unknown as KernelFunc;
  tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'webgpu',
    kernelFunc: ((args: Parameters<KernelFunc>[0]) => conv2DBackpropFilter(args, fallback)) as unknown as tf.KernelFunc,
  });
}

/** Whether the replacement kernels are registered and on. */
export function webgpuKernelsActive(): boolean {
  return installed && kernelsEnabled;
}
