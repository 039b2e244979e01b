import '@tensorflow/tfjs-backend-wasm';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { setPoolMinMacs } from './conv2d.js';
import type { WasmBackendLike } from './heap.js';
import { ADDED_KERNELS, registerWasmTrainingKernels, REPLACED_KERNELS } from './index.js';
import { nativeKernels, setNativeKernelsEnabled } from './native.js';
import { nativePool, setNativePoolEnabled, setNativePoolThreads } from './native-pool.js';

type KernelMode = 'pool' | 'native' | 'JS';
const CONV_MODES: KernelMode[] = ['pool', 'native', 'JS'];

/**
 * 'pool': native kernels on a 3-thread pool, for every size (so the small test shapes take it too, and with
 * more threads than this 2-CPU machine has, so work-sharing is exercised whatever the CPU count); 'native':
 * native kernels on one thread, in place; 'JS': the JS kernels.
 */
function withKernelMode(mode: KernelMode): void {
  beforeAll(() => {
    setNativeKernelsEnabled(mode !== 'JS');
    setNativePoolEnabled(mode === 'pool');
    if (mode === 'pool') {
      setNativePoolThreads(3);
      setPoolMinMacs(0);
      expect(nativePool()?.threads).toBe(3);
    }
  });
  afterAll(() => {
    setNativeKernelsEnabled(true);
    setNativePoolEnabled(true);
    setNativePoolThreads(undefined);
    setPoolMinMacs(undefined);
  });
}

type Spec = { shape: number[]; dtype?: 'float32' | 'int32'; values?: ArrayLike<number> };

/** Deterministic pseudo-random values in [-1, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Runs a kernel on `backend` with tensors made from the same values; returns its outputs' values and shapes. */
async function runOn(
  backend: 'cpu' | 'wasm',
  kernel: string,
  inputs: Record<string, Spec>,
  attrs: Record<string, unknown>,
): Promise<Array<{ shape: number[]; values: Float32Array | Int32Array }>> {
  await tf.setBackend(backend);
  const made: Record<string, tf.Tensor> = {};
  let seed = 1;
  for (const [name, s] of Object.entries(inputs)) {
    const n = sizeOf(s.shape);
    const values = s.values ?? rand(n, 7919 * seed++);
    made[name] = tf.tensor(Array.from(values), s.shape, s.dtype ?? 'float32');
  }
  const out = tf.engine().runKernel(kernel, made as never, attrs as never) as tf.Tensor | tf.Tensor[];
  const outs = Array.isArray(out) ? out : [out];
  const res = [];
  for (const o of outs) {
    res.push({ shape: o.shape, values: (await o.data()) as Float32Array | Int32Array });
    o.dispose();
  }
  Object.values(made).forEach((t) => t.dispose());
  return res;
}

async function compare(kernel: string, inputs: Record<string, Spec>, attrs: Record<string, unknown>): Promise<number> {
  const cpu = await runOn('cpu', kernel, inputs, attrs);
  await tf.setBackend('wasm');
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = tf.backend().numDataIds();
  const wasm = await runOn('wasm', kernel, inputs, attrs);
  // No leaked tensors nor leaked heap temporaries.
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  expect(tf.backend().numDataIds()).toBe(idsBefore);
  expect(wasm.length).toBe(cpu.length);
  let maxDiff = 0;
  for (let k = 0; k < cpu.length; k++) {
    expect(wasm[k].shape).toEqual(cpu[k].shape);
    const a = cpu[k].values;
    const b = wasm[k].values;
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  }
  return maxDiff;
}

function convOutShape(
  x: number[],
  f: number[],
  strides: number,
  pad: unknown,
  dilations = 1,
  depthwise = false,
): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    x as [number, number, number, number],
    f as [number, number, number, number],
    strides,
    dilations,
    pad as 'same',
    undefined,
    depthwise,
  );
  return info.outShape;
}

const TOL = 1e-4;

beforeAll(async () => {
  registerWasmTrainingKernels();
  registerWasmTrainingKernels(); // idempotent
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('registerWasmTrainingKernels', () => {
  it('registers every kernel on the wasm backend', () => {
    for (const k of [...ADDED_KERNELS, ...REPLACED_KERNELS]) expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
  });
});

const pads: unknown[] = [
  'same',
  'valid',
  [
    [0, 0],
    [1, 2],
    [2, 0],
    [0, 0],
  ],
];

describe('native SIMD kernels (native/kernels.c)', () => {
  it('load on the wasm backend, sharing its memory', () => {
    // Without this the native tests below would silently exercise only the JS paths.
    const native = nativeKernels(tf.backend() as unknown as WasmBackendLike);
    expect(native).not.toBeNull();
    expect(typeof native!.conv2d_backprop_filter_nhwc).toBe('function');
    expect(typeof native!.max_pool_grad_nhwc).toBe('function');
  });
});

/** A test per (x, filter) case, stride 1 and 2 and each padding: `difference` (from the cpu backend) within TOL. */
function itComparesEachCase(
  cases: Array<[number[], number[]]>,
  difference: (xs: number[], fs: number[], strides: number, pad: unknown, dyShape: number[]) => Promise<number>,
): void {
  for (const [xs, fs] of cases) {
    for (const strides of [1, 2]) {
      for (const pad of pads) {
        it(`x=${xs} f=${fs} s=${strides} pad=${JSON.stringify(pad)}`, async () => {
          const d = await difference(xs, fs, strides, pad, convOutShape(xs, fs, strides, pad));
          expect(d).toBeLessThanOrEqual(TOL);
        });
      }
    }
  }
}

/** x and filter shapes both conv gradients are checked on (besides their own): several channels, a 2×3 filter. */
const COMMON_CONV_CASES: Array<[number[], number[]]> = [
  [
    [2, 9, 9, 3],
    [3, 3, 3, 4],
  ],
  [
    [3, 10, 7, 2],
    [2, 3, 2, 5],
  ],
];

for (const mode of CONV_MODES)
  describe(`Conv2DBackpropFilter (${mode})`, () => {
    withKernelMode(mode);
    const cases: Array<[number[], number[]]> = [
      ...COMMON_CONV_CASES,
      [
        [2, 8, 8, 1],
        [3, 3, 1, 16],
      ],
      [
        [1, 6, 6, 4],
        [1, 1, 4, 3],
      ],
      [
        [3, 10, 7, 1],
        [2, 3, 1, 5],
      ],
      [
        [2, 12, 11, 1],
        [5, 5, 1, 12],
      ],
      [
        [2, 9, 9, 16],
        [3, 3, 16, 32],
      ],
      [
        [1, 7, 8, 5],
        [3, 2, 5, 13],
      ],
    ];
    itComparesEachCase(cases, (xs, fs, strides, pad, dyShape) =>
      compare(
        'Conv2DBackpropFilter',
        { x: { shape: xs }, dy: { shape: dyShape } },
        { strides, pad, dataFormat: 'NHWC', filterShape: fs },
      ),
    );
    it('NCHW', async () => {
      const xs = [2, 3, 9, 8];
      const fs = [3, 3, 3, 4];
      const d = await compare(
        'Conv2DBackpropFilter',
        { x: { shape: xs }, dy: { shape: [2, 4, 5, 4] } },
        { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape: fs },
      );
      expect(d).toBeLessThanOrEqual(TOL);
    });
  });

for (const mode of CONV_MODES)
  describe(`Conv2DBackpropInput (replaced, ${mode})`, () => {
    withKernelMode(mode);
    const cases: Array<[number[], number[]]> = [
      ...COMMON_CONV_CASES,
      [
        [2, 13, 13, 16],
        [3, 3, 16, 32],
      ],
      [
        [1, 7, 6, 5],
        [2, 2, 5, 3],
      ], // Cout < 4 and R not a multiple of 4 or 8 (GEMM tails)
      [
        [5, 6, 6, 1],
        [3, 3, 1, 7],
      ],
    ];
    itComparesEachCase(cases, (xs, fs, strides, pad, dyShape) =>
      compare(
        'Conv2DBackpropInput',
        { dy: { shape: dyShape }, filter: { shape: fs } },
        { inputShape: xs, strides, pad, dataFormat: 'NHWC' },
      ),
    );
  });

describe('Conv2DBackpropFilter is deterministic (fixed summation blocks)', () => {
  afterAll(() => {
    setNativePoolEnabled(true);
    setNativePoolThreads(undefined);
    setPoolMinMacs(undefined);
  });
  it('gives bit-identical dW on one thread and on pools of 2 and 3 threads, run after run', async () => {
    const xs = [8, 15, 15, 8];
    const fs = [3, 3, 8, 16];
    const inputs = { x: { shape: xs }, dy: { shape: convOutShape(xs, fs, 1, 'same') } };
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: fs };
    setPoolMinMacs(0);
    const results: Float32Array[] = [];
    for (const threads of [1, 2, 3, 2, 3]) {
      setNativePoolEnabled(threads > 1);
      setNativePoolThreads(threads);
      results.push((await runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs))[0]!.values as Float32Array);
    }
    for (const r of results.slice(1)) expect(Array.from(r)).toEqual(Array.from(results[0]!));
  });
});

for (const mode of ['pool', 'native'] as const)
  describe(`Conv2D (replaced: native across the pool, else XNNPACK; ${mode})`, () => {
    withKernelMode(mode);
    const cases: Array<[number[], number[]]> = [
      [
        [2, 9, 9, 4],
        [3, 3, 4, 8],
      ],
      [
        [3, 10, 7, 8],
        [2, 3, 8, 5],
      ],
      [
        [2, 13, 13, 16],
        [3, 3, 16, 32],
      ],
      [
        [1, 7, 6, 5],
        [2, 2, 5, 3],
      ],
      [
        [2, 8, 8, 1],
        [3, 3, 1, 16],
      ], // Cin < 4: XNNPACK in both modes
    ];
    for (const [xs, fs] of cases) {
      for (const strides of [1, 2]) {
        for (const pad of pads) {
          for (const dilations of strides === 1 ? [1, 2] : [1]) {
            it(`x=${xs} f=${fs} s=${strides} d=${dilations} pad=${JSON.stringify(pad)}`, async () => {
              const d = await compare(
                'Conv2D',
                { x: { shape: xs }, filter: { shape: fs } },
                { strides, pad, dataFormat: 'NHWC', dilations },
              );
              expect(d).toBeLessThanOrEqual(TOL);
            });
          }
        }
      }
    }
  });

describe('DepthwiseConv2dNativeBackpropFilter / BackpropInput', () => {
  const cases: Array<[number[], number[], number, number]> = [
    // x, filter, strides, dilations
    [[2, 9, 9, 3], [3, 3, 3, 1], 1, 1],
    [[2, 9, 9, 3], [3, 3, 3, 2], 2, 1],
    [[1, 7, 7, 4], [5, 5, 4, 1], 2, 1],
  ];
  for (const [xs, fs, strides, dilations] of cases) {
    for (const pad of ['same', 'valid']) {
      const name = `x=${xs} f=${fs} s=${strides} d=${dilations} pad=${pad}`;
      const dyShape = convOutShape(xs, fs, strides, pad, dilations, true);
      it(`filter ${name}`, async () => {
        const d = await compare(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: { shape: xs }, dy: { shape: dyShape } },
          { strides, dilations, pad, filterShape: fs },
        );
        expect(d).toBeLessThanOrEqual(TOL);
      });
      it(`input ${name}`, async () => {
        const d = await compare(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: { shape: dyShape }, filter: { shape: fs } },
          { strides, dilations, pad, inputShape: xs },
        );
        expect(d).toBeLessThanOrEqual(TOL);
      });
    }
  }
});

// The cpu backend's depthwise backprop kernels ignore `dilations` (tfjs' gradient refuses dilations > 1, so they are
// never called with it). Reference for dilated cases: a dilation-d KxK filter equals an undilated filter of size
// (K-1)*d+1 with zeros between the taps.
describe('Depthwise backprop with dilations (vs undilated equivalent on cpu)', () => {
  const cases: Array<[number[], number[], number, string]> = [
    [[2, 10, 8, 2], [3, 2, 2, 3], 2, 'valid'],
    [[2, 10, 8, 2], [3, 2, 2, 1], 2, 'same'],
    [[1, 9, 9, 3], [2, 2, 3, 2], 3, 'valid'],
  ];
  for (const [xs, fs, d, pad] of cases) {
    const [KH, KW, C, M] = fs;
    const eff = [(KH - 1) * d + 1, (KW - 1) * d + 1, C, M];
    const dyShape = convOutShape(xs, fs, 1, pad, d, true);
    const tapIndex = (kh: number, kw: number) => (kh * d * eff[1] + kw * d) * C * M;
    it(`input x=${xs} f=${fs} d=${d} ${pad}`, async () => {
      const w = rand(sizeOf(fs), 11);
      const wEff = new Float32Array(sizeOf(eff));
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          for (let j = 0; j < C * M; j++) wEff[tapIndex(kh, kw) + j] = w[(kh * KW + kw) * C * M + j];
        }
      }
      const dy = rand(sizeOf(dyShape), 13);
      const ref = await runOn(
        'cpu',
        'DepthwiseConv2dNativeBackpropInput',
        { dy: { shape: dyShape, values: dy }, filter: { shape: eff, values: wEff } },
        { strides: 1, dilations: 1, pad, inputShape: xs },
      );
      const got = await runOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropInput',
        { dy: { shape: dyShape, values: dy }, filter: { shape: fs, values: w } },
        { strides: 1, dilations: d, pad, inputShape: xs },
      );
      let diff = 0;
      for (let i = 0; i < ref[0].values.length; i++)
        diff = Math.max(diff, Math.abs(ref[0].values[i] - got[0].values[i]));
      expect(got[0].shape).toEqual(xs);
      expect(diff).toBeLessThanOrEqual(TOL);
    });
    it(`filter x=${xs} f=${fs} d=${d} ${pad}`, async () => {
      const x = rand(sizeOf(xs), 17);
      const dy = rand(sizeOf(dyShape), 19);
      const ref = await runOn(
        'cpu',
        'DepthwiseConv2dNativeBackpropFilter',
        { x: { shape: xs, values: x }, dy: { shape: dyShape, values: dy } },
        { strides: 1, dilations: 1, pad, filterShape: eff },
      );
      const got = await runOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropFilter',
        { x: { shape: xs, values: x }, dy: { shape: dyShape, values: dy } },
        { strides: 1, dilations: d, pad, filterShape: fs },
      );
      expect(got[0].shape).toEqual(fs);
      let diff = 0;
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          for (let j = 0; j < C * M; j++) {
            const a = ref[0].values[tapIndex(kh, kw) + j];
            const b = got[0].values[(kh * KW + kw) * C * M + j];
            diff = Math.max(diff, Math.abs(a - b));
          }
        }
      }
      expect(diff).toBeLessThanOrEqual(TOL);
    });
  }
});

describe('UnsortedSegmentSum', () => {
  it('2-D data, repeated and out-of-range ids', async () => {
    const ids = [0, 2, 2, 5, 1, 0, 7, -1, 3, 3];
    const d = await compare(
      'UnsortedSegmentSum',
      { x: { shape: [10, 4] }, segmentIds: { shape: [10], dtype: 'int32', values: ids } },
      { numSegments: 6 },
    );
    expect(d).toBeLessThanOrEqual(TOL);
  });
  it('3-D data', async () => {
    const ids = [4, 0, 4];
    const d = await compare(
      'UnsortedSegmentSum',
      { x: { shape: [3, 4, 5] }, segmentIds: { shape: [3], dtype: 'int32', values: ids } },
      { numSegments: 5 },
    );
    expect(d).toBeLessThanOrEqual(TOL);
  });
  it('int32 data', async () => {
    const d = await compare(
      'UnsortedSegmentSum',
      {
        x: { shape: [4, 3], dtype: 'int32', values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
        segmentIds: { shape: [4], dtype: 'int32', values: [1, 1, 0, 2] },
      },
      { numSegments: 3 },
    );
    expect(d).toBe(0);
  });
});

for (const native of [true, false])
  describe(`MaxPoolGrad (replaced, ${native ? 'native' : 'JS'}) and AvgPoolGrad (built in)`, () => {
    withKernelMode(native ? 'native' : 'JS');
    const cases: Array<[number[], number, number, string]> = [
      [[2, 8, 8, 3], 2, 2, 'valid'],
      [[2, 9, 9, 3], 2, 2, 'same'],
      [[2, 9, 7, 4], 3, 1, 'same'],
      [[1, 11, 11, 32], 2, 2, 'valid'],
      [[2, 10, 10, 2], 3, 2, 'valid'],
      [[2, 8, 9, 3], 2, 2, 'valid'],
      [[3, 26, 26, 16], 2, 2, 'valid'],
    ];
    for (const [xs, filterSize, strides, pad] of cases) {
      const info = tf.backend_util.computePool2DInfo(
        xs as [number, number, number, number],
        filterSize,
        strides,
        1,
        pad as 'same',
      );
      for (const kernel of ['MaxPoolGrad', 'AvgPoolGrad']) {
        it(`${kernel} x=${xs} k=${filterSize} s=${strides} ${pad}`, async () => {
          // MaxPoolGrad's `output` input is unused by both backends; pass a tensor of the right shape.
          const inputs: Record<string, Spec> = { dy: { shape: info.outShape }, input: { shape: xs } };
          if (kernel === 'MaxPoolGrad') inputs.output = { shape: info.outShape };
          const d = await compare(kernel, inputs, { filterSize, strides, pad });
          expect(d).toBeLessThanOrEqual(TOL);
        });
      }
    }
  });

for (const native of [true, false])
  describe(`MaxPoolGrad ties and -Infinity windows (${native ? 'native' : 'JS'})`, () => {
    withKernelMode(native ? 'native' : 'JS');
    for (const xs of [
      [2, 6, 6, 3],
      [1, 7, 5, 2],
      [2, 6, 6, 8],
      [1, 4, 6, 6],
    ]) {
      it(`x=${xs}`, async () => {
        const n = sizeOf(xs);
        // Few distinct values: many windows hold several maxima (the gradient goes to the first one).
        const values = Array.from(rand(n, 11), (v) => Math.floor(v * 2));
        values[0] = values[1] = values[xs[2] * xs[3]] = values[xs[2] * xs[3] + xs[3]] = -Infinity;
        const info = tf.backend_util.computePool2DInfo(xs as [number, number, number, number], 2, 2, 1, 'valid');
        const d = await compare(
          'MaxPoolGrad',
          {
            dy: { shape: info.outShape },
            input: { shape: xs, values },
            output: { shape: info.outShape },
          },
          { filterSize: 2, strides: 2, pad: 'valid' },
        );
        expect(d).toBeLessThanOrEqual(TOL);
      });
    }
  });

describe('Identity (replaced: shares the data)', () => {
  for (const [shape, dtype] of [
    [[64, 26, 26, 16], 'float32'],
    [[5, 3], 'int32'],
    [[], 'float32'],
  ] as const) {
    it(`${dtype} ${shape}`, async () => {
      const d = await compare('Identity', { x: { shape: [...shape], dtype } }, {});
      expect(d).toBe(0);
    });
  }
  it('the copy outlives its source', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(ids);
  });
});

describe('GatherV2 (replaced for batchDims 0)', () => {
  const cases: Array<[number[], number[], number, 'float32' | 'int32']> = [
    [[50, 784], [64], 0, 'float32'],
    [[50, 1], [7], 0, 'float32'],
    [[4, 5, 6], [2, 3], 1, 'float32'],
    [[4, 5, 6], [9], 2, 'int32'],
    [[4, 5, 6], [3], -1, 'float32'],
    [[10], [10], 0, 'int32'],
  ];
  for (const [xs, is, axis, dtype] of cases) {
    it(`x=${xs} ${dtype} indices=${is} axis=${axis}`, async () => {
      const dim = xs[axis < 0 ? axis + xs.length : axis];
      const values = Array.from(rand(sizeOf(is), 5), (v) => Math.floor(((v + 1) / 2) * dim));
      const d = await compare(
        'GatherV2',
        {
          x: { shape: xs, dtype },
          indices: { shape: is, dtype: 'int32', values },
        },
        { axis, batchDims: 0 },
      );
      expect(d).toBe(0);
    });
  }
});

describe('Slice (replaced: heap views instead of readSync)', () => {
  const cases: Array<[number[], number[], number[], 'float32' | 'int32' | 'bool']> = [
    [[8192, 784], [640, 0], [64, 784], 'float32'],
    [[100, 1], [30, 0], [64, -1], 'float32'],
    [[10, 7], [2, 3], [5, 4], 'float32'],
    [[4, 5, 6], [1, 0, 2], [2, 5, 3], 'int32'],
    [[3, 4, 5, 6], [1, 1, 0, 1], [2, 2, -1, 1], 'float32'],
    [[2, 3, 4, 5, 2], [0, 1, 1, 0, 1], [2, 2, 2, 5, 1], 'float32'],
    [[6], [2], [3], 'bool'],
    [[5, 4], [1, 0], [0, 4], 'float32'],
  ];
  for (const [xs, begin, sz, dtype] of cases) {
    it(`x=${xs} ${dtype} begin=${begin} size=${sz}`, async () => {
      const values = dtype === 'float32' ? undefined : Array.from(rand(sizeOf(xs), 9), (v) => (v > 0 ? 1 : 0) * 7);
      const d = await compare('Slice', { x: { shape: xs, dtype: dtype as 'float32', values } }, { begin, size: sz });
      expect(d).toBe(0);
    });
  }
});

for (const native of [true, false])
  describe(`Sum (replaced for leading axes, ${native ? 'native' : 'JS'})`, () => {
    withKernelMode(native ? 'native' : 'JS');
    const cases: Array<[number[], number | number[], boolean, 'float32' | 'int32']> = [
      [[64, 26, 26, 16], [0, 1, 2], false, 'float32'],
      [[8, 11, 11, 32], [0, 1, 2], true, 'float32'],
      [[128, 10], 0, false, 'float32'],
      [[33, 130], 0, false, 'float32'],
      [[20000, 3], 0, false, 'float32'],
      [[5, 6, 7], [0], false, 'float32'],
      [[128, 10], [0], true, 'float32'],
      [[3, 4, 5], [1, 0], false, 'float32'],
      [[3, 4, 5], [-3, -2], false, 'float32'],
      [[64, 10], 1, false, 'float32'], // original kernel from here on
      [[64, 10], [0, 1], false, 'float32'],
      [[3, 4, 5], [0, 2], true, 'float32'],
      [[6, 7], 0, false, 'int32'],
    ];
    for (const [xs, axis, keepDims, dtype] of cases) {
      it(`x=${xs} ${dtype} axis=${axis} keepDims=${keepDims}`, async () => {
        const values = dtype === 'int32' ? Array.from(rand(sizeOf(xs), 3), (v) => Math.floor(v * 50)) : undefined;
        const d = await compare('Sum', { x: { shape: xs, dtype, values } }, { axis, keepDims });
        expect(d).toBeLessThanOrEqual(1e-3);
      });
    }
  });

describe('Add (replaced for bias-shaped operands)', () => {
  const cases: Array<[number[], number[]]> = [
    [[64, 26, 26, 16], [16]],
    [[16], [64, 13, 13, 16]], // bias first
    [
      [100, 50],
      [1, 50],
    ],
    [[4096, 3], [3]], // cols not a multiple of 4 (scalar tail)
    [[5000, 1], [1]],
    [
      [2, 3, 700],
      [1, 1, 700],
    ],
    [
      [64, 10],
      [64, 10],
    ], // original kernel from here on
    [
      [40, 128],
      [40, 1],
    ],
    [[3, 4], [4]],
  ];
  for (const [as, bs] of cases) {
    it(`a=${as} b=${bs}`, async () => {
      const d = await compare('Add', { a: { shape: as }, b: { shape: bs } }, {});
      expect(d).toBeLessThanOrEqual(1e-6);
    });
  }
  it('int32 operands take the original kernel', async () => {
    const d = await compare(
      'Add',
      {
        a: { shape: [70, 70], dtype: 'int32', values: Array.from({ length: 4900 }, (_, i) => i) },
        b: { shape: [70], dtype: 'int32', values: Array.from({ length: 70 }, (_, i) => -i) },
      },
      {},
    );
    expect(d).toBe(0);
  });
});

describe("fused Adam (one native kernel per variable instead of tfjs's element-wise chain)", () => {
  /**
   * Trains a small conv model `steps` batches with the native kernels on or off; returns weights and optimizer state.
   */
  async function train(
    native: boolean,
    steps: number,
  ): Promise<{ weights: Float32Array[]; state: Array<{ name: string; values: Float32Array }>; loss: number }> {
    setNativeKernelsEnabled(native);
    try {
      await tf.setBackend('wasm');
      const L = tf.layers;
      const model = tf.sequential({
        layers: [
          L.conv2d({
            inputShape: [8, 8, 1],
            filters: 4,
            kernelSize: 3,
            activation: 'relu',
            kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          }),
          L.flatten(),
          L.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
      const x = tf.tensor4d(rand(16 * 64, 5), [16, 8, 8, 1]);
      const y = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3));
      const h = await model.fit(x, y, { epochs: steps, batchSize: 16, shuffle: false, verbose: 0 });
      const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      const state = await Promise.all(
        (await model.optimizer.getWeights()).map(async (w) => ({
          name: w.name,
          values: (await w.tensor.data()) as Float32Array,
        })),
      );
      tf.dispose([x, y]);
      model.dispose();
      return { weights, state, loss: h.history.loss.at(-1) as number };
    } finally {
      setNativeKernelsEnabled(true);
    }
  }

  it("matches tfjs's AdamOptimizer step for step (weights, moments, iterations)", async () => {
    const fused = await train(true, 5);
    const reference = await train(false, 5);
    // Same slots in the same order (layer names differ by their per-model counter only).
    const slot = (name: string) => name.replace(/\d+/g, '');
    expect(fused.state.map((s) => slot(s.name))).toEqual(reference.state.map((s) => slot(s.name)));
    expect(fused.state.length).toBe(1 + 2 * fused.weights.length);
    let maxDiff = 0;
    const pairs: Array<[ArrayLike<number>, ArrayLike<number>]> = [
      ...fused.weights.map((w, i) => [w, reference.weights[i]!] as [Float32Array, Float32Array]),
      ...fused.state.map((s, i) => [s.values, reference.state[i]!.values] as [Float32Array, Float32Array]),
    ];
    for (const [a, b] of pairs) {
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
    // It trained: five Adam steps at lr 0.01 moved the loss (and the weights) away from the first step's.
    expect(Math.abs(fused.loss - reference.loss)).toBeLessThanOrEqual(1e-6);
    expect(fused.state[0]!.values[0]).toBe(5); // iterations
  });

  it('leaks no tensors and keeps the moment variables', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.tensor1d(rand(1000, 9)));
    const opt = tf.train.adam(0.1);
    const loss = () => tf.sum(tf.square(v)) as tf.Scalar;
    opt.minimize(loss);
    const before = tf.memory().numTensors;
    const start = v.dataSync().slice();
    for (let i = 0; i < 3; i++) opt.minimize(loss);
    expect(tf.memory().numTensors).toBe(before);
    const after = v.dataSync();
    let moved = 0;
    for (let i = 0; i < after.length; i++) moved += Math.abs(after[i]! - start[i]!);
    expect(moved).toBeGreaterThan(0);
    tf.dispose([v]);
    opt.dispose();
  });
});

describe('BatchMatMul (replaced for transposed operands and for several batches)', () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[1, 7, 5], [1, 5, 3], false, false],
    [[1, 5, 7], [1, 5, 3], true, false],
    [[1, 7, 5], [1, 3, 5], false, true],
    [[1, 5, 7], [1, 3, 5], true, true],
    [[3, 5, 7], [3, 3, 5], true, true],
    [[3, 6, 4], [1, 6, 5], true, false],
    [[40, 33], [40, 20], true, false],
    // More than one batch: the native SIMD GEMM per batch (attention's [batch, heads, steps, dim] products).
    [[2, 3, 9, 6], [2, 3, 6, 13], false, false],
    [[2, 3, 9, 6], [2, 3, 13, 6], false, true],
    [[2, 3, 6, 9], [2, 3, 6, 13], true, false],
    [[4, 5, 7], [4, 7, 5], true, true],
  ];
  for (const [as, bs, transposeA, transposeB] of cases) {
    it(`a=${as} b=${bs} tA=${transposeA} tB=${transposeB}`, async () => {
      const d = await compare('BatchMatMul', { a: { shape: as }, b: { shape: bs } }, { transposeA, transposeB });
      expect(d).toBeLessThanOrEqual(TOL);
    });
  }
});

describe('gradients through tf.grad match cpu', () => {
  async function gradsOn(backend: 'cpu' | 'wasm', f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor) {
    await tf.setBackend(backend);
    const x = tf.tensor4d(rand(2 * 9 * 9 * 4, 3), [2, 9, 9, 4]);
    const w = tf.tensor4d(rand(3 * 3 * 4 * 2, 5), [3, 3, 4, 2]);
    const [gx, gw] = tf.grads((a, b) => tf.sum(f(a as tf.Tensor4D, b as tf.Tensor4D)))([x, w]);
    const res = [await gx.data(), await gw.data()];
    tf.dispose([x, w, gx, gw]);
    return res;
  }
  const fns: Record<string, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor> = {
    conv2d: (x, w) => tf.maxPool(tf.relu(tf.conv2d(x, w, 1, 'same')), 2, 2, 'valid'),
    conv2dStrided: (x, w) => tf.avgPool(tf.conv2d(x, w, 2, 'same'), 2, 1, 'same'),
    depthwise: (x, w) => tf.depthwiseConv2d(x, w, 1, 'same'),
    separable: (x, w) => tf.separableConv2d(x, w, tf.ones([1, 1, 8, 3]) as tf.Tensor4D, 1, 'valid'),
  };
  for (const [name, f] of Object.entries(fns)) {
    it(name, async () => {
      const c = await gradsOn('cpu', f);
      const before = tf.memory().numTensors;
      const w = await gradsOn('wasm', f);
      expect(tf.memory().numTensors).toBe(before);
      for (let k = 0; k < 2; k++) {
        let d = 0;
        for (let i = 0; i < c[k].length; i++) d = Math.max(d, Math.abs(c[k][i] - w[k][i]));
        expect(d).toBeLessThanOrEqual(TOL);
      }
    });
  }
});

describe('Relu gradient (one native kernel on wasm)', () => {
  async function reluGradOn(backend: 'cpu' | 'wasm', xv: number[], dyv: number[]) {
    await tf.setBackend(backend);
    const x = tf.tensor1d(xv);
    const dy = tf.tensor1d(dyv);
    const g = tf.grad((a) => tf.mul(tf.relu(a), dy))(x);
    const out = Array.from(await g.data());
    tf.dispose([x, dy, g]);
    return out;
  }
  it('matches cpu, NaN, Infinity and zeros included, for sizes with and without a SIMD tail', async () => {
    for (const n of [7, 64, 4099]) {
      const xv = Array.from(rand(n, n), (v) => v);
      const dyv = Array.from(rand(n, n + 1), (v) => v * 3);
      xv[0] = NaN;
      xv[1] = 0;
      xv[2] = -0;
      xv[3] = Infinity;
      xv[4] = -Infinity;
      xv[n - 1] = NaN;
      dyv[5] = Infinity;
      dyv[6] = NaN;
      xv[5] = -1;
      xv[6] = 2;
      const c = await reluGradOn('cpu', xv, dyv);
      const before = tf.memory().numTensors;
      const w = await reluGradOn('wasm', xv, dyv);
      expect(tf.memory().numTensors).toBe(before);
      expect(w.map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(c.map((v) => (Number.isNaN(v) ? 'NaN' : v)));
    }
  });
  it("runs the native kernel on wasm (not tfjs's Step/Cast/Multiply chain)", async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, -1, 2]);
    const { kernelNames } = await tf.profile(() => tf.grad((a) => tf.relu(a))(x));
    expect(kernelNames).toContain('ReluGradWasm');
    expect(kernelNames).not.toContain('Step');
    x.dispose();
  });
});

describe('ClipByValue gradient (one native kernel on wasm)', () => {
  async function clipGradOn(backend: 'cpu' | 'wasm', xv: number[], dyv: number[], lo: number, hi: number) {
    await tf.setBackend(backend);
    const x = tf.tensor1d(xv);
    const dy = tf.tensor1d(dyv);
    const g = tf.grad((a) => tf.mul(tf.clipByValue(a, lo, hi), dy))(x);
    const out = Array.from(await g.data());
    tf.dispose([x, dy, g]);
    return out;
  }
  it('matches cpu at the bounds, with NaN and Infinity, for sizes with and without a SIMD tail', async () => {
    for (const n of [7, 64, 4099]) {
      const xv = Array.from(rand(n, n + 7), (v) => v * 2);
      const dyv = Array.from(rand(n, n + 8), (v) => v * 3);
      xv[0] = NaN;
      xv[1] = 0;
      xv[2] = 1;
      xv[3] = Infinity;
      xv[4] = -Infinity;
      xv[5] = 0.1;
      xv[n - 1] = NaN;
      dyv[5] = NaN;
      dyv[6] = Infinity;
      xv[6] = 0.5;
      dyv[3] = NaN;
      const key = (v: number) => (Number.isNaN(v) ? 'NaN' : v);
      for (const [lo, hi] of [
        [0, 1],
        [-0.3, 0.7],
      ]) {
        const c = await clipGradOn('cpu', xv, dyv, lo!, hi!);
        const before = tf.memory().numTensors;
        const w = await clipGradOn('wasm', xv, dyv, lo!, hi!);
        expect(tf.memory().numTensors).toBe(before);
        expect(w.map(key)).toEqual(c.map(key));
      }
    }
  });
  it('runs the native kernel on wasm', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([0.5, -1, 2]);
    const { kernelNames } = await tf.profile(() => tf.grad((a) => tf.clipByValue(a, 0, 1))(x));
    expect(kernelNames).toContain('ClipByValueGradWasm');
    expect(kernelNames).not.toContain('LogicalAnd');
    x.dispose();
  });
});

describe('tensors saved for backprop without the engine clone (saved-tensors.ts)', () => {
  it('first- and second-order gradients match cpu', async () => {
    const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.mul(x, x)), tf.sigmoid(x)));
    const results: Record<string, number[][]> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const x = tf.tensor1d(Array.from(rand(37, 4)));
      const g1 = tf.grad(f)(x);
      const g2 = tf.grad((y: tf.Tensor) => tf.sum(tf.grad(f)(y)))(x);
      results[backend] = [Array.from(await g1.data()), Array.from(await g2.data())];
      tf.dispose([x, g1, g2]);
    }
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < 37; i++)
        expect(Math.abs(results.wasm![k]![i]! - results.cpu![k]![i]!)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('leaks neither tensors nor backend data over LSTM training steps', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [tf.layers.lstm({ inputShape: [6, 3], units: 5 }), tf.layers.dense({ units: 2, activation: 'softmax' })],
    });
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const x = tf.tensor3d(rand(16 * 18, 6), [16, 6, 3]);
    const y = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 2));
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const tensors = tf.memory().numTensors;
    const dataIds = tf.backend().numDataIds();
    await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(dataIds);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('training on wasm', () => {
  it('trains conv + embedding layer models one epoch without error or leaks', async () => {
    await tf.setBackend('wasm');
    const L = tf.layers;
    const image = tf.sequential({
      layers: [
        L.conv2d({ inputShape: [12, 12, 2], filters: 4, kernelSize: 3, activation: 'relu', padding: 'same' }),
        L.maxPooling2d({ poolSize: 2 }),
        L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
        L.separableConv2d({ filters: 4, kernelSize: 3, strides: 2 }),
        L.averagePooling2d({ poolSize: 2, padding: 'same' }),
        L.batchNormalization({}),
        L.flatten(),
        L.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const text = tf.sequential({
      layers: [
        L.embedding({ inputShape: [6], inputDim: 20, outputDim: 5 }),
        L.conv1d({ filters: 4, kernelSize: 3, activation: 'relu' }),
        L.maxPooling1d({ poolSize: 2 }),
        L.layerNormalization({}),
        L.lstm({ units: 4, returnSequences: true }),
        L.gru({ units: 3 }),
        L.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    for (const [model, x] of [
      [image, tf.randomNormal([16, 12, 12, 2], 0, 1, 'float32', 1)],
      [text, tf.randomUniform([16, 6], 0, 20, 'int32', 2)],
    ] as Array<[tf.Sequential, tf.Tensor]>) {
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      const y = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3));
      await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 }); // warm up (optimizer slots)
      const before = tf.memory().numTensors;
      const h = await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
      expect(Number.isFinite(h.history.loss[0] as number)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
      model.dispose();
    }
  });
});
