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

/**
 * Images read from the archive batch by batch, for a dataset whose decoded size exceeds TRAINING_CACHE_MB: a worker
 * thread decodes and resizes each requested batch, and the training loop asks for the next batch (prefetch) before
 * it trains on the current one, so decoding overlaps training when a core is free. Memory: a couple of batches.
 */
export class DiskImageStore implements ImageStore {
  readonly frameBytes: number;
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(pixels: Uint8Array): void; reject(error: Error): void }>();
  private readonly ahead = new Map<string, Promise<Uint8Array>>();
  private failure: Error | undefined;

  private constructor(
    private readonly files: string[],
    path: string,
    shape: { width: number; height: number; channels: 1 | 3 },
    worker: Worker,
  ) {
    this.frameBytes = shape.width * shape.height * shape.channels;
    this.worker = worker;
    worker.on('message', (message: { id: number; pixels?: Uint8Array; error?: string }) => {
      const pending = this.waiting.get(message.id);
      if (!pending) return;
      this.waiting.delete(message.id);
      if (message.pixels) pending.resolve(message.pixels);
      else pending.reject(new Error(`decoding a batch of ${path} failed: ${message.error}`));
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the image decoding thread stopped (exit code ${code})`)));
  }

  static async open(path: string, files: string[], shape: { width: number; height: number; channels: 1 | 3 }): Promise<DiskImageStore> {
    const worker = new Worker(new URL('./image-decode.worker.js', import.meta.url), { workerData: { path, ...shape } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new DiskImageStore(files, path, shape, worker);
  }

  get count(): number {
    return this.files.length;
  }

  prefetch(indices: ArrayLike<number>): void {
    const key = Array.prototype.join.call(indices, ',');
    if (!this.ahead.has(key)) this.ahead.set(key, this.request(indices));
  }

  read(indices: ArrayLike<number>): Promise<Uint8Array> {
    const key = Array.prototype.join.call(indices, ',');
    const ahead = this.ahead.get(key);
    if (ahead) {
      this.ahead.delete(key);
      return ahead;
    }
    return this.request(indices);
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    this.worker.postMessage('close');
    await this.worker.terminate();
  }

  private request(indices: ArrayLike<number>): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const promise = new Promise<Uint8Array>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    promise.catch(() => undefined); // a prefetch nobody reads must not go unhandled
    this.worker.postMessage({ id, files: Array.from(indices, (index) => this.files[index]) });
    return promise;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.waiting.values()) pending.reject(error);
    this.waiting.clear();
  }
}
