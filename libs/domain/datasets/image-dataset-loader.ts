import type { AppConfig } from '#libs/core/config';
import { type Cell, type ImageRow, resizeImage, scanImageArchive } from '#libs/pure/data';
import type { ImageConfig } from '#libs/pure/training';
import { DiskImageStore, type ImageStore, MemoryImageStore } from '#libs/pure/training';

import { datasetFile } from './dataset-folders.js';

export interface LoadedImageDataset {
  /** The dataset's table (image, label, split), row i being the store's image i. */
  rows: Record<string, Cell>[];
  store: ImageStore;
}

/**
 * Decodes an images dataset once, each image resized to the run's width × height × channels and kept as uint8.
 * The archive is read in the same order and by the same rules as at upload, so the rows are the dataset's rows.
 */
export async function loadImageDataset(
  config: AppConfig,
  datasetId: string,
  expectedRows: number,
  image: ImageConfig,
  progress: (message: string) => void,
): Promise<LoadedImageDataset> {
  const frameBytes = image.width * image.height * image.channels;
  const cacheBytes = config.worker.trainingCacheMb * 1024 * 1024;
  const path = datasetFile(config.dataDir, datasetId);
  if (expectedRows * frameBytes > cacheBytes) {
    // Too large to hold: list the rows (each image is decoded once to keep the upload's rules, then dropped) and read
    // batches from the archive on a decoding thread while training.
    progress(
      `the decoded images (${Math.ceil((expectedRows * frameBytes) / 1024 / 1024)} MiB) exceed ` +
        `TRAINING_CACHE_MB=${config.worker.trainingCacheMb}: reading batches from disk`,
    );
    const scan = await scanImageArchive(path, { maxUnpackedBytes: config.limits.maxUploadBytes });
    const store = await DiskImageStore.open(
      path,
      scan.rows.map((row) => row.file),
      image,
    );
    progress(`decoding batches ahead on ${store.threads} thread(s)`);
    const close = store.close.bind(store);
    // Said at the end of the run: whether training waited on decoding (the first read is the validation set).
    store.close = async () => {
      const { reads, waitedMs, longestMs } = store.waits;
      const longest = Math.round(longestMs);
      const waited = `${Math.round(waitedMs)} ms on ${reads} batch reads from disk (longest ${longest} ms)`;
      progress(`the training loop waited ${waited}`);
      await close();
    };
    return { rows: tableOf(scan.rows), store };
  }
  let pixels = new Uint8Array(Math.max(1, expectedRows) * frameBytes);
  const started = performance.now();
  let lastReport = started;
  const scan = await scanImageArchive(path, {
    maxUnpackedBytes: config.limits.maxUploadBytes,
    onImage: (decoded, _row, index) => {
      if ((index + 1) * frameBytes > pixels.length) {
        const grown = new Uint8Array(pixels.length * 2);
        grown.set(pixels);
        pixels = grown;
      }
      resizeImage(
        decoded,
        image.width,
        image.height,
        image.channels,
        pixels.subarray(index * frameBytes, (index + 1) * frameBytes),
      );
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        progress(`decoded ${index + 1} of ${expectedRows} images`);
      }
    },
  });
  progress(
    `decoded ${scan.rows.length} images to ${image.width}×${image.height}×${image.channels} in ` +
      `${Math.round(performance.now() - started)} ms`,
  );
  return {
    rows: tableOf(scan.rows),
    store: new MemoryImageStore(pixels.subarray(0, scan.rows.length * frameBytes), frameBytes),
  };
}

function tableOf(rows: ImageRow[]): Record<string, Cell>[] {
  return rows.map((row) => ({ image: row.file, label: row.label, split: row.split ?? null }));
}
