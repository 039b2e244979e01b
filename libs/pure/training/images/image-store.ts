import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * The decoded, resized images of an images dataset, as uint8 (a quarter of float32's memory), read by the training
 * loop one batch at a time. The in-memory store holds them all; a disk-backed one decodes batches ahead on a thread.
 */
export interface ImageStore {
  /** Images in the store (its rows are the dataset's image rows, in archive order). */
  readonly count: number;
  /** Bytes an image: height × width × channels. */
  readonly frameBytes: number;
  /** The pixels of the given images, one frame after another. */
  read(indices: ArrayLike<number>): Promise<Uint8Array>;
  /** A hint that `indices` come next (a disk store starts decoding them). */
  prefetch?(indices: ArrayLike<number>): void;
  close?(): Promise<void>;
}

/** Every image decoded once and kept as uint8. */
export class MemoryImageStore implements ImageStore {
  constructor(
    private readonly pixels: Uint8Array,
    readonly frameBytes: number,
  ) {}

  get count(): number {
    return this.pixels.length / this.frameBytes;
  }

  read(indices: ArrayLike<number>): Promise<Uint8Array> {
    return Promise.resolve(this.readSync(indices));
  }

  readSync(indices: ArrayLike<number>): Uint8Array {
    const out = new Uint8Array(indices.length * this.frameBytes);
    for (let i = 0; i < indices.length; i++) {
      const start = indices[i] * this.frameBytes;
      out.set(this.pixels.subarray(start, start + this.frameBytes), i * this.frameBytes);
    }
    return out;
  }
}

/** Decoding threads a disk store starts when not told: a fixed ceiling bounds the memory they take together. */
export const MAX_DECODE_THREADS = 8;

/**
 * The decoding threads for a disk store: one per core the training loop leaves spare (the loop keeps one busy),
 * at least one, at most MAX_DECODE_THREADS.
 */
export function decodeThreadCount(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(MAX_DECODE_THREADS, Math.floor(cores) - 1));
}

/**
 * Splits `count` images into at most `parts` contiguous slices, as even as can be (the first ones one longer), so
 * each decoding thread takes one slice of a batch and the slices laid back in order are the batch.
 */
export function splitBatch(count: number, parts: number): { start: number; end: number }[] {
  const slices = Math.max(1, Math.min(parts, count));
  const base = Math.floor(count / slices);
  const longer = count % slices;
  const out: { start: number; end: number }[] = [];
  for (let i = 0, start = 0; i < slices; i++) {
    const end = start + base + (i < longer ? 1 : 0);
    out.push({ start, end });
    start = end;
  }
  return out;
}

interface Pending {
  resolve(pixels: Uint8Array): void;
  reject(error: Error): void;
}

export interface DiskImageStoreOptions {
  /** Decoding threads (default decodeThreadCount()). */
  threads?: number;
  /** The decoding thread's script (default the built image-decode.worker.js next to this module). */
  workerUrl?: URL;
}

/**
 * The parent's Node flags less the `source` condition: a decoding thread always runs compiled JS, which must resolve
 * `#libs/...` to dist/ even when its parent runs the TypeScript sources (vitest adds `--conditions source`).
 */
function compiledExecArgv(): string[] {
  const args: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i];
    if (arg === '--conditions=source' || arg === '-C=source') continue;
    if ((arg === '--conditions' || arg === '-C') && process.execArgv[i + 1] === 'source') {
      i++;
      continue;
    }
    args.push(arg);
  }
  return args;
}

/**
 * Images read from the archive batch by batch, for a dataset whose decoded size exceeds TRAINING_CACHE_MB. A pool
 * of worker threads (one per spare core) decodes and resizes each requested batch, every thread one contiguous
 * slice of it, and the slices are laid back in request order: the pixels are the same bytes, in the same order, as
 * the in-memory store's, whatever the thread count. The training loop asks for the next batch (prefetch) before it
 * trains on the current one, so decoding overlaps training. Memory: a couple of batches, plus each thread's decoder.
 * A thread that fails (a file that no longer decodes, a crash) fails every read after it with an error naming why.
 */
export class DiskImageStore implements ImageStore {
  readonly frameBytes: number;
  private nextId = 0;
  private readonly waiting = new Map<number, Pending>();
  private readonly ahead = new Map<string, Promise<Uint8Array>>();
  private failure: Error | undefined;
  private closing = false;

  private constructor(
    private readonly files: string[],
    private readonly path: string,
    shape: { width: number; height: number; channels: 1 | 3 },
    private readonly workers: Worker[],
  ) {
    this.frameBytes = shape.width * shape.height * shape.channels;
    workers.forEach((worker, thread) => {
      const which = `image decoding thread ${thread + 1} of ${workers.length}`;
      worker.on('message', (message: { id: number; pixels?: Uint8Array; error?: string }) => {
        const pending = this.waiting.get(message.id);
        if (!pending) return;
        this.waiting.delete(message.id);
        if (message.pixels) pending.resolve(message.pixels);
        else pending.reject(new Error(`decoding a batch of ${path} failed: ${message.error}`));
      });
      worker.on('error', (error) => this.fail(new Error(`${which} failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`${which} stopped (exit code ${code})`));
      });
    });
  }

  static async open(
    path: string,
    files: string[],
    shape: { width: number; height: number; channels: 1 | 3 },
    options: DiskImageStoreOptions = {},
  ): Promise<DiskImageStore> {
    const threads = Math.max(1, Math.floor(options.threads ?? decodeThreadCount()));
    const url = options.workerUrl ?? new URL('./image-decode.worker.js', import.meta.url);
    const execArgv = compiledExecArgv();
    const workers = Array.from(
      { length: threads },
      () => new Worker(url, { workerData: { path, ...shape }, execArgv }),
    );
    const started = await Promise.allSettled(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const settle = (error?: Error) => {
              worker.off('message', onReady).off('error', onError).off('exit', onExit);
              if (error) reject(error);
              else resolve();
            };
            const onReady = () => settle();
            const onError = (error: Error) => settle(error);
            const onExit = (code: number) => settle(new Error(`it stopped (exit code ${code}) before it was ready`));
            worker.on('message', onReady).on('error', onError).on('exit', onExit);
          }),
      ),
    );
    const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw new Error(`starting the image decoding threads for ${path} failed: ${(failed.reason as Error).message}`);
    }
    return new DiskImageStore(files, path, shape, workers);
  }

  get count(): number {
    return this.files.length;
  }

  /** Decoding threads in the pool. */
  get threads(): number {
    return this.workers.length;
  }

  prefetch(indices: ArrayLike<number>): void {
    const key = Array.prototype.join.call(indices, ',');
    if (!this.ahead.has(key)) this.ahead.set(key, this.request(indices));
  }

  /** How long reads took from the call to their pixels (the training loop awaits each read at once): its wait. */
  readonly waits = { reads: 0, waitedMs: 0, longestMs: 0 };

  read(indices: ArrayLike<number>): Promise<Uint8Array> {
    const key = Array.prototype.join.call(indices, ',');
    const ahead = this.ahead.get(key);
    if (ahead) this.ahead.delete(key);
    const asked = performance.now();
    return (ahead ?? this.request(indices)).then((pixels) => {
      const waited = performance.now() - asked;
      this.waits.reads++;
      this.waits.waitedMs += waited;
      this.waits.longestMs = Math.max(this.waits.longestMs, waited);
      return pixels;
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const worker of this.workers) worker.postMessage('close');
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private request(indices: ArrayLike<number>): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i];
      if (!Number.isInteger(index) || index < 0 || index >= this.files.length) {
        return Promise.reject(new RangeError(`image ${index} is outside the store's ${this.files.length} images`));
      }
    }
    const slices = splitBatch(indices.length, this.workers.length);
    const out = new Uint8Array(indices.length * this.frameBytes);
    const parts = slices.map(({ start, end }, thread) => {
      const id = this.nextId++;
      const files = Array.from({ length: end - start }, (_, i) => this.files[indices[start + i]]);
      const part = new Promise<Uint8Array>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
      this.workers[thread].postMessage({ id, files });
      return part.then((pixels) => out.set(pixels, start * this.frameBytes));
    });
    const promise = Promise.all(parts).then(() => out);
    promise.catch(() => undefined); // a prefetch nobody reads must not go unhandled
    return promise;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.waiting.values()) pending.reject(error);
    this.waiting.clear();
  }
}
