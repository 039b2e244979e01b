import { parentPort, workerData } from 'node:worker_threads';

import { decodeImage, ImageArchiveReader, resizeImage } from '#libs/pure/data';

/**
 * Decodes the images of one batch slice after another, off the training loop's thread (one of DiskImageStore's pool).
 * A file that fails is named in the error, so the run's FAILED message says which image and why.
 */
const { path, width, height, channels } = workerData as {
  path: string;
  width: number;
  height: number;
  channels: 1 | 3;
};
const archive = await ImageArchiveReader.open(path);
const frame = width * height * channels;
parentPort!.on('message', async (request: { id: number; files: string[] } | 'close') => {
  if (request === 'close') {
    archive.close();
    parentPort!.close();
    return;
  }
  try {
    const pixels = new Uint8Array(request.files.length * frame);
    for (let i = 0; i < request.files.length; i++) {
      try {
        const image = decodeImage(await archive.read(request.files[i]));
        resizeImage(image, width, height, channels, pixels.subarray(i * frame, (i + 1) * frame));
      } catch (error) {
        throw new Error(`${request.files[i]}: ${(error as Error).message}`, { cause: error });
      }
    }
    parentPort!.postMessage({ id: request.id, pixels }, [pixels.buffer]);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message });
  }
});
parentPort!.postMessage({ ready: true });
