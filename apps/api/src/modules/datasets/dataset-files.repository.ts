import { mkdirSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../../../libs/config/src/index.js';

/**
 * Dataset files on disk. A stored file is named by the dataset's id alone: a name from an upload
 * never reaches a path.
 */
@Injectable()
export class DatasetFilesRepository {
  readonly uploadDir: string;
  readonly datasetDir: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.uploadDir = join(config.dataDir, 'uploads');
    this.datasetDir = join(config.dataDir, 'datasets');
    mkdirSync(this.uploadDir, { recursive: true });
    mkdirSync(this.datasetDir, { recursive: true });
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
