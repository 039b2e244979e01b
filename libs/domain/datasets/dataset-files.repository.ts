import { mkdirSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/core/config';

/**
 * Dataset files on disk. A stored file is named by the dataset's id alone: a name from an upload
 * never reaches a path.
 */
/**
 * Uploads left in the uploads folder by a process that died mid-request are removed at start once this old: an
 * upload in progress (perhaps on another API instance sharing DATA_DIR) writes continuously, so it stays younger.
 */
const LEFTOVER_UPLOAD_AGE_MS = 10 * 60 * 1000;

@Injectable()
export class DatasetFilesRepository implements OnApplicationBootstrap {
  private readonly logger = new Logger('DatasetFiles');
  readonly uploadDir: string;
  readonly datasetDir: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.uploadDir = join(config.dataDir, 'uploads');
    this.datasetDir = join(config.dataDir, 'datasets');
    mkdirSync(this.uploadDir, { recursive: true });
    mkdirSync(this.datasetDir, { recursive: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    const removed = await this.sweepLeftoverUploads(LEFTOVER_UPLOAD_AGE_MS);
    if (removed > 0) this.logger.log(`removed ${removed} partial upload(s) left from an earlier run`);
  }

  /** Removes files in the uploads folder not written to for `olderThanMs`; returns how many. */
  async sweepLeftoverUploads(olderThanMs: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.uploadDir)) {
      const path = join(this.uploadDir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile() || Date.now() - info.mtimeMs < olderThanMs) continue;
      await rm(path, { force: true });
      removed++;
    }
    return removed;
  }

  pathOf(id: string): string {
    return join(this.datasetDir, id);
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
