import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import type { Request } from 'express';
import type { StorageEngine } from 'multer';

/** Every this many bytes written, a young-generation collection runs. */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;

/**
 * multer's disk storage, streaming each upload to a file named by a fresh id (the client's file
 * name never reaches a path). A fast upload hands over one 64 KiB socket buffer after another;
 * each is garbage once written, but V8 only collects such external memory after ~64 MB of it has
 * piled up, so a cheap minor collection every 8 MB keeps a 300 MB upload's footprint small.
 */
export class StreamingDiskStorage implements StorageEngine {
  constructor(private readonly directory: string) {}

  _handleFile(
    request: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void,
  ): void {
    const filename = `upload-${randomUUID()}`;
    const path = join(this.directory, filename);
    const out = createWriteStream(path);
    let sinceCollect = 0;
    file.stream.on('data', (chunk: Buffer) => {
      sinceCollect += chunk.length;
      if (sinceCollect >= COLLECT_EVERY_BYTES) {
        sinceCollect = 0;
        collect({ type: 'minor' });
      }
    });
    file.stream.pipe(out);
    // An upload cut off mid-stream (or failing on disk) leaves no partial file: it is removed before multer hears.
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      file.stream.unpipe(out);
      file.stream.resume();
      out.destroy();
      rm(path, { force: true }).then(
        () => callback(error),
        () => callback(error),
      );
    };
    out.on('error', fail);
    file.stream.on('error', fail);
    const onClose = () => {
      if (!request.complete) fail(new Error('the upload was cut off before its end'));
    };
    request.once('close', onClose);
    out.on('finish', () => {
      request.off('close', onClose);
      if (settled) return;
      settled = true;
      callback(null, { destination: this.directory, filename, path, size: out.bytesWritten });
    });
  }

  _removeFile(_request: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    rm(file.path, { force: true }).then(() => callback(null), callback);
  }
}
