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
