/**
 * Multi-threaded XNNPACK for the tfjs wasm backend under Node.js.
 *
 * Findings (tfjs-backend-wasm 4.22, Node 20):
 *  - The package ships a threaded-SIMD build, but the flag WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false
 *    under Node (tfjs issue #3830), so `setThreadsCount()` has no effect there: one thread.
 *  - Forcing the flag fails: the Emscripten pthread workers are created from `blob:` URLs, which Node's
 *    worker_threads rejects (ERR_WORKER_PATH), and the worker then importScripts() the main script from a Blob.
 *  - Even when the pool starts, the C++ side caps the thread count at os.cpus().length / 2 ("hyper-threads"),
 *    i.e. 1 on a 2-vCPU machine.
 *
 * enableWasmThreads() works around all three: it writes the pthread worker script (shipped in the package as a
 * string) to a temp file and returns that path instead of a blob: URL, rewrites the worker 'load' message to
 * point at the on-disk threaded factory script, and reports 2x the CPUs to the C++ init so `threads` is honoured.
 * XNNPACK ops (matmul, conv) then run on a pthreadpool; the JS kernels in this folder stay single-threaded.
 *
 * Must be called BEFORE the wasm backend is initialized (before the first tf.setBackend('wasm')).
 * Returns a restore function for the globals it patched during init; call it after tf.setBackend resolves.
 * Opt-in and best effort: it relies on tfjs-backend-wasm 4.x internals.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

import * as tf from '@tensorflow/tfjs';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

export function enableWasmThreads(threads: number): () => void {
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const out = join(pkgDir, 'wasm-out');
  const mainScript = join(out, 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(join(out, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  const workerPath = join(tmpdir(), `tfjs-wasm-threaded-simd-${process.pid}.worker.cjs`);
  // Same escaping tfjs applies before turning the contents into a Blob.
  writeFileSync(workerPath, wasmWorkerContents.replace(/\n/g, '\\n'));

  const origCreateObjectURL = URL.createObjectURL;
  URL.createObjectURL = ((obj: Blob) =>
    obj && obj.type === 'application/javascript' ? workerPath : origCreateObjectURL(obj)) as typeof URL.createObjectURL;

  const proto = Worker.prototype as unknown as { postMessage: (msg: unknown, ...rest: unknown[]) => void };
  const origPost = proto.postMessage;
  proto.postMessage = function (this: Worker, msg: unknown, ...rest: unknown[]) {
    const m = msg as { cmd?: string; urlOrBlob?: unknown } | null;
    if (m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') msg = { ...m, urlOrBlob: mainScript };
    return origPost.call(this, msg, ...rest);
  };

  const os = require('node:os') as { cpus: () => unknown[] };
  const origCpus = os.cpus;
  // The C++ init uses min(threads, logical_cores / 2).
  os.cpus = () => {
    const c = origCpus();
    const want = Math.max(c.length, threads * 2);
    return Array.from({ length: want }, (_, i) => c[i % c.length]);
  };

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  tfwasm.setThreadsCount(threads);

  return () => {
    URL.createObjectURL = origCreateObjectURL;
    os.cpus = origCpus;
    // postMessage stays patched: workers may be spawned lazily later (it only rewrites 'load' messages).
  };
}
