import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { AppError, isUuid } from '#libs/core/errors';
import { type Page, pageQuery, toPage } from '#libs/core/pagination';
import {
  analyzeDatasetIsolated,
  type ColumnStats,
  DATASET_FORMATS,
  type DatasetFormat,
  formatFromFileName,
} from '#libs/pure/data';

import { DatasetFilesRepository } from './dataset-files.repository.js';
import { type DatasetRow, DatasetsRepository } from './datasets.repository.js';
import type { Dataset } from './dto/dataset.type.js';

export interface UploadedDatasetFile {
  path: string;
  originalName: string;
}

const MAX_NAME_LENGTH = 200;

export function toDataset(row: DatasetRow): Dataset {
  return { ...row, sizeBytes: Number(row.sizeBytes), columns: row.columns as unknown as Dataset['columns'] };
}

@Injectable()
export class DatasetsService {
  constructor(
    private readonly datasets: DatasetsRepository,
    private readonly files: DatasetFilesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Analyses an uploaded file and records it. The row is written only once the file has been
   * read through and its columns are known, so a bad file leaves nothing behind. `name` and `format` are
   * checked by UploadDatasetFields's rules.
   */
  async create(file: UploadedDatasetFile | undefined, name?: string, format?: DatasetFormat | ''): Promise<Dataset> {
    if (!file) throw AppError.badInput('file: the multipart body needs a "file" part holding the dataset');
    try {
      const resolvedFormat = this.resolveFormat(file.originalName, format);
      const displayName = (name ?? file.originalName ?? '').trim() || 'dataset';
      if (displayName.length > MAX_NAME_LENGTH)
        throw AppError.badInput(`name must be at most ${MAX_NAME_LENGTH} characters`);
      const sizeBytes = await this.files.size(file.path);
      if (sizeBytes === 0) throw AppError.badInput('file: the file is empty');
      // An image ZIP's unpacked bytes count against the upload limit as its packed ones do.
      const analysis = await analyzeDatasetIsolated(file.path, resolvedFormat, this.config.limits.maxUploadBytes);
      const id = randomUUID();
      const stored = await this.files.adopt(file.path, id);
      try {
        const row = await this.datasets.create({
          id,
          name: displayName,
          format: resolvedFormat,
          sizeBytes,
          rowCount: analysis.rowCount,
          columns: analysis.columns,
          warnings: analysis.warnings ?? [],
        });
        return toDataset(row);
      } catch (error) {
        await this.files.remove(stored);
        throw error;
      }
    } finally {
      await this.files.remove(file.path);
    }
  }

  /** Removes an upload refused before it was analysed. */
  discardUpload(path: string): Promise<void> {
    return this.files.remove(path);
  }

  private resolveFormat(originalName: string, format?: DatasetFormat | ''): DatasetFormat {
    if (format) return format;
    const guessed = formatFromFileName(originalName ?? '');
    if (!guessed)
      throw AppError.badInput(
        `format: cannot tell the format from the file name; pass format=${DATASET_FORMATS.join(', format=')}`,
      );
    return guessed;
  }

  async get(id: string): Promise<Dataset> {
    const row = isUuid(id) ? await this.datasets.findById(id) : null;
    if (!row) throw AppError.notFound('dataset', id);
    return toDataset(row);
  }

  async find(id: string): Promise<Dataset | null> {
    const row = isUuid(id) ? await this.datasets.findById(id) : null;
    return row ? toDataset(row) : null;
  }

  /** The newest datasets, at most MAX_LIST_ITEMS of them: datasetsPage pages through all. */
  async list(): Promise<Dataset[]> {
    return (await this.datasets.findAll(this.config.limits.maxListItems)).map(toDataset);
  }

  async page(first?: number | null, after?: string | null): Promise<Page<Dataset>> {
    const query = pageQuery(first, after);
    return toPage(await this.datasets.page(query), query, () => this.datasets.count(), toDataset);
  }

  filePath(id: string): string {
    return this.files.pathOf(id);
  }

  columns(dataset: Dataset): ColumnStats[] {
    return dataset.columns as ColumnStats[];
  }

  /** The stored file of a dataset whose row was deleted (see DeletionsService). */
  discardStoredFile(id: string): Promise<void> {
    return this.files.remove(this.files.pathOf(id));
  }
}
