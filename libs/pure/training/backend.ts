import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import * as tf from '@tensorflow/tfjs';

import { registerWasmTrainingKernels } from './wasm-kernels/index.js';
import { activeNativeKernels, setNativeKernelsEnabled } from './wasm-kernels/native.js';
import { nativePoolThreads, setNativePoolThreads } from './wasm-kernels/native-pool.js';

/** How the wasm backend trains: native SIMD kernels or the JS ones, and the conv kernels' thread count. */
export interface WasmOptions {
  nativeKernels?: boolean;
  /** Unset: one per CPU, at most 4. */
  threads?: number;
}

export const BACKEND_ORDER = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export interface SelectedBackend {
  backend: string;
  /** What a run reports as its device, e.g. "tensorflow-gpu", "webgpu", "wasm". */
  device: string;
  tried: string[];
  /** How it runs, for the logs, e.g. "native SIMD kernels, conv pool of 2 threads" on wasm. */
  detail?: string;
}

const require = createRequire(import.meta.url);

async function tryTensorflow(): Promise<string | undefined> {
  for (const [name, device] of [
    ['@tensorflow/tfjs-node-gpu', 'tensorflow-gpu'],
    ['@tensorflow/tfjs-node', 'tensorflow'],
  ] as const) {
    try {
      await import(name);
      if (await tf.setBackend('tensorflow')) return device;
    } catch {
      // Optional dependency, absent or without its native library: try the next one.
    }
  }
  return undefined;
}

/**
 * Asks Dawn for an adapter in a short-lived child process. Dawn prints its Vulkan diagnostics (with paths from the
 * `webgpu` package's build machine) straight to this process's stderr, where they read like errors on every machine
 * without a GPU; in the child they are dropped, and only a machine with an adapter loads Dawn in-process.
 */
export function webgpuAdapterPresent(timeoutMs = 20_000): Promise<boolean> {
  const probe = `import('webgpu').then(async ({ create }) => {
    const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
    process.stdout.write(adapter ? 'adapter' : 'none');
    process.exit(0);
  }, () => { process.stdout.write('none'); process.exit(0); });`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', probe],
      { timeout: timeoutMs, cwd: import.meta.dirname },
      (error, stdout) => resolve(!error && stdout.trim() === 'adapter'),
    );
  });
}

async function tryWebgpu(): Promise<string | undefined> {
  try {
    if (!(await webgpuAdapterPresent())) return undefined;
    // Dawn via npm `webgpu`, tfjs-backend-webgpu, and the per-step-overhead tuning (see ./webgpu.ts).
    const { setupWebgpu } = await import('./webgpu.js');
    if (!(await setupWebgpu())) return undefined;
    return (await tf.setBackend('webgpu')) ? 'webgpu' : undefined;
  } catch {
    return undefined;
  }
}

export async function tryWasm(options: WasmOptions = {}): Promise<string | undefined> {
  try {
    setNativeKernelsEnabled(options.nativeKernels ?? true);
    setNativePoolThreads(options.threads);
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${join(dist, '/')}`);
    registerWasmTrainingKernels();
    return (await tf.setBackend('wasm')) ? 'wasm' : undefined;
  } catch {
    return undefined;
  }
}

/** Picks the best backend this process can load (or the forced one) and makes it TF.js's current backend. */
export async function selectBackend(forced?: string, wasm: WasmOptions = {}): Promise<SelectedBackend> {
  const order: readonly string[] = forced ? [forced] : BACKEND_ORDER;
  const tried: string[] = [];
  for (const name of order) {
    tried.push(name);
    let device: string | undefined;
    if (name === 'tensorflow') device = await tryTensorflow();
    else if (name === 'webgpu') device = await tryWebgpu();
    else if (name === 'wasm') device = await tryWasm(wasm);
    else if (name === 'cpu') device = (await tf.setBackend('cpu')) ? 'cpu' : undefined;
    else throw new Error(`TRAINING_BACKEND must be one of ${BACKEND_ORDER.join(', ')}, got "${name}"`);
    if (device) {
      await tf.ready();
      return { backend: tf.getBackend(), device, tried, detail: device === 'wasm' ? wasmDetail() : undefined };
    }
  }
  throw new Error(`no TF.js backend could be loaded (tried ${tried.join(', ')})`);
}

function wasmDetail(): string {
  if (!activeNativeKernels()) return 'JS training kernels';
  const threads = nativePoolThreads();
  return `native SIMD kernels, ${threads > 1 ? `conv pool of ${threads} threads` : 'one thread'}`;
}
