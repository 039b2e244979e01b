import { mkdirSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';

import { datasetFile, datasetsFolder, uploadsFolder } from './dataset-folders.js';

/**
 * Uploads left in the uploads folder by a process that died mid-request are removed at start once this old: an
 * upload in progress (perhaps on another API instance sharing DATA_DIR) writes continuously, so it stays younger.
 */
const LEFTOVER_UPLOAD_AGE_MS = 10 * 60 * 1000;

/** Dataset files on disk (folders named in dataset-folders.ts). */
@Injectable()
export class DatasetFilesRepository implements OnApplicationBootstrap {
  private readonly logger = new Logger('DatasetFiles');
  private readonly dataDir: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.dataDir = config.dataDir;
    mkdirSync(uploadsFolder(this.dataDir), { recursive: true });
    mkdirSync(datasetsFolder(this.dataDir), { recursive: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    const removed = await this.sweepLeftoverUploads(LEFTOVER_UPLOAD_AGE_MS);
    if (removed > 0) this.logger.log(`removed ${removed} partial upload(s) left from an earlier run`);
  }

  /** Removes files in the uploads folder not written to for `olderThanMs`; returns how many. */
  async sweepLeftoverUploads(olderThanMs: number): Promise<number> {
    let removed = 0;
    const folder = uploadsFolder(this.dataDir);
    for (const name of await readdir(folder)) {
      const path = join(folder, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile() || Date.now() - info.mtimeMs < olderThanMs) continue;
      await rm(path, { force: true });
      removed++;
    }
    return removed;
  }

  pathOf(id: string): string {
    return datasetFile(this.dataDir, id);
  }

  async adopt(uploadPath: string, id: string): Promise<string> {
    const path = this.pathOf(id);
    await rename(uploadPath, path);
    return path;
  }

  async size(path: string): Promise<number> {
    return (await stat(path)).size;
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}
