/**
 * Runs the native conv kernels (native/kernels.c) on several threads.
 *
 * Why: the CNN step's convolutions are ~60% of its time and the tfjs wasm backend runs them on one thread,
 * while the machine has more (the PyTorch peer uses two). tfjs's own threaded build is not an option in
 * Node (wasm-kernels/threads.ts: it needs patched globals and its spinning pool measured slower), and the
 * backend's heap is not a SharedArrayBuffer, so no other thread can see it.
 *
 * How: the pool owns a shared WebAssembly.Memory. The main thread and (threads - 1) worker_threads each
 * instantiate the shared build of the kernels on it. A kernel copies its inputs from the backend's heap into
 * the pool's memory (one memcpy per tensor, ~5% of the conv's time); then every thread, this one included, takes
 * chunks of output pixels (or images) from a shared atomic counter until none are left, so a thread on a busier
 * vCPU simply takes fewer; then the result is copied back.
 * Workers sleep on Atomics.wait between jobs, so an idle pool costs nothing (spinning workers measured no faster
 * on the 2-vCPU bench machine).
 *
 * `nativePool()` returns null (callers then run single-threaded, in place) when there is one CPU, when it was
 * set to one thread (TRAINING_WASM_THREADS=1 in the worker's config), or when the pool cannot start.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import type { NativeKernels } from './native.js';
import { NATIVE_KERNELS_SHARED_WASM_BASE64 } from './native-binary.js';

/** The kernels a worker can run (their index is the job's function id). */
export const POOL_FUNCTIONS = [
  'conv2d_backprop_filter_dyn',
  'conv2d_backprop_input_dyn',
  'conv2d_nhwc_dyn',
] as const satisfies ReadonlyArray<keyof NativeKernels>;
export type PoolFunction = (typeof POOL_FUNCTIONS)[number];

export interface PoolJob {
  fn: PoolFunction;
  args: number[];
}

const PAGE = 65536;
const MAX_PAGES = 4096; // 256 MiB (kept once grown): larger convs take the single-threaded path
// [0] job sequence, [1] done sequence, [2] function id (-1: exit), [3] argc, [4..] args, [63] error
const CTRL_INTS = 64;
const JOB_TIMEOUT_MS = 60_000;

// CommonJS source for the workers (eval'd), kept here so the pool needs no separate file in dist or in a bundle.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, functions } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(ctrl);
let seen = 0;
for (;;) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  const id = c[2];
  if (id < 0) break;
  const args = [];
  for (let i = 0; i < c[3]; i++) args.push(c[4 + i]);
  try { kernels[functions[id]](...args); } catch { Atomics.store(c, 63, 1); }
  Atomics.store(c, 1, seen);
  Atomics.notify(c, 1);
}
`;

export class NativePool {
  readonly kernels: NativeKernels;
  private readonly workers: Array<{ worker: Worker; ctrl: Int32Array }> = [];
  private top = 0;
  private broken = false;

  private constructor(
    readonly threads: number,
    private readonly memory: WebAssembly.Memory,
    module: WebAssembly.Module,
  ) {
    this.kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as NativeKernels;
    for (let i = 1; i < threads; i++) {
      const ctrl = new SharedArrayBuffer(CTRL_INTS * 4);
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, ctrl, functions: POOL_FUNCTIONS },
      });
      worker.unref(); // an idle pool must not keep the process alive
      worker.on('error', () => {
        this.broken = true;
      });
      this.workers.push({ worker, ctrl: new Int32Array(ctrl) });
    }
  }

  static create(threads: number): NativePool | null {
    try {
      const memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared: true });
      const module = new WebAssembly.Module(Buffer.from(NATIVE_KERNELS_SHARED_WASM_BASE64, 'base64'));
      return new NativePool(threads, memory, module);
    } catch {
      return null;
    }
  }

  /** Stops the workers (tests switch thread counts; a process otherwise keeps its pool). */
  dispose(): void {
    for (const { worker, ctrl } of this.workers) {
      ctrl[2] = -1;
      Atomics.add(ctrl, 0, 1);
      Atomics.notify(ctrl, 0);
      void worker.terminate();
    }
    this.workers.length = 0;
    this.broken = true;
  }

  get usable(): boolean {
    return !this.broken;
  }

  /** Frees every allocation (the pool's memory is scratch for one kernel call at a time). */
  reset(): void {
    this.top = 0;
  }

  /** Whether `bytes` more fit under the pool's memory limit. */
  fits(bytes: number): boolean {
    return this.top + bytes + 64 <= MAX_PAGES * PAGE;
  }

  /** Byte offset of `floats` uninitialised floats, 16-byte aligned. */
  alloc(floats: number): number {
    const offset = (this.top + 15) & ~15;
    this.top = offset + floats * 4;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / PAGE));
    return offset;
  }

  view(offset: number, floats: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, floats);
  }

  /** A zeroed int32 work counter for the *_dyn kernels (each thread takes the next chunk from it). */
  counter(): number {
    const offset = this.alloc(1);
    new Int32Array(this.memory.buffer, offset, 1)[0] = 0;
    return offset;
  }

  /** Copies `src` into fresh pool memory; returns its offset. */
  copyIn(src: Float32Array): number {
    const offset = this.alloc(src.length);
    this.view(offset, src.length).set(src);
    return offset;
  }

  /** Runs jobs[0] on this thread and jobs[1..] on the workers, and returns when all are done. */
  run(jobs: PoolJob[]): void {
    if (jobs.length > this.threads) throw new Error(`NativePool.run: ${jobs.length} jobs for ${this.threads} threads`);
    const started: Array<{ ctrl: Int32Array; seq: number }> = [];
    for (let i = 1; i < jobs.length; i++) {
      const { fn, args } = jobs[i]!;
      const { ctrl } = this.workers[i - 1]!;
      ctrl[2] = POOL_FUNCTIONS.indexOf(fn);
      ctrl[3] = args.length;
      for (let k = 0; k < args.length; k++) ctrl[4 + k] = args[k]!;
      const seq = Atomics.add(ctrl, 0, 1) + 1;
      Atomics.notify(ctrl, 0);
      started.push({ ctrl, seq });
    }
    const own = jobs[0]!;
    (this.kernels[own.fn] as (...a: number[]) => void)(...own.args);
    for (const { ctrl, seq } of started) {
      // Every thread takes work from one counter, so the workers finish about when we do: spin briefly first.
      for (let spin = 0; spin < 2000 && Atomics.load(ctrl, 1) !== seq; spin++);
      const deadline = Date.now() + JOB_TIMEOUT_MS;
      for (let done = Atomics.load(ctrl, 1); done !== seq; done = Atomics.load(ctrl, 1)) {
        if (Date.now() > deadline || this.broken) {
          this.broken = true;
          throw new Error('NativePool: a worker did not finish its job');
        }
        Atomics.wait(ctrl, 1, done, 1000);
      }
      if (Atomics.exchange(ctrl, 63, 0) !== 0) throw new Error('NativePool: a worker job failed');
    }
  }
}

let pool: NativePool | null | undefined;
let enabled = true;
let threadsOverride: number | undefined;

/** For tests and benchmarks: run the native conv kernels single-threaded (false) or pooled (true). */
export function setNativePoolEnabled(on: boolean): void {
  enabled = on;
}

/** A pool of exactly `threads` threads from the next call on (1: no pool; undefined: back to the default). */
export function setNativePoolThreads(threads: number | undefined): void {
  if (threads === threadsOverride) return;
  threadsOverride = threads;
  pool?.dispose();
  pool = undefined;
}

/** Threads the pool uses: the CPUs Node may use, at most 4, unless setNativePoolThreads said otherwise. */
export function nativePoolThreads(): number {
  if (threadsOverride) return Math.min(threadsOverride, 16);
  return Math.min(availableParallelism(), 4);
}

export function nativePool(): NativePool | null {
  if (!enabled) return null;
  if (pool === undefined) {
    const threads = nativePoolThreads();
    pool = threads > 1 ? NativePool.create(threads) : null;
  }
  return pool && pool.usable ? pool : null;
}
