import { Inject, Injectable } from '@nestjs/common';
import { PNG } from 'pngjs';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { AppError } from '#libs/core/errors';
import { type DecodedImage, resizeImage, scanImageArchive } from '#libs/pure/data';

import { DatasetFilesRepository } from './dataset-files.repository.js';
import type { Dataset } from './dto/dataset.type.js';

export const MAX_SAMPLES_PER_CLASS = 12;
/** Longest side of a sample thumbnail, in pixels. */
const THUMBNAIL_SIDE = 64;
const CACHED_DATASETS = 8;

export interface ImageSamples {
  /** Every class with its number of images, most frequent first. */
  classes: { label: string; count: number }[];
  /** The first images of each class as small PNG data: URLs (for a grid of thumbnails). */
  samples: { label: string; file: string; thumbnail: string }[];
}

function thumbnail(image: DecodedImage): string {
  const scale = THUMBNAIL_SIDE / Math.max(image.width, image.height);
  const width = Math.max(1, Math.round(image.width * Math.min(1, scale)));
  const height = Math.max(1, Math.round(image.height * Math.min(1, scale)));
  const rgb = resizeImage(image, width, height, 3);
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = rgb[i * 3];
    png.data[i * 4 + 1] = rgb[i * 3 + 1];
    png.data[i * 4 + 2] = rgb[i * 3 + 2];
    png.data[i * 4 + 3] = 255;
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/**
 * Class counts and sample thumbnails of an images dataset, from one scan of its ZIP (the same scan, with the same
 * rules, as the upload and the worker). The archive never changes, so each answer is computed once and kept.
 */
@Injectable()
export class ImageSamplesService {
  private readonly cache = new Map<string, Promise<ImageSamples>>();

  constructor(
    private readonly files: DatasetFilesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  samples(dataset: Dataset, perClass: number): Promise<ImageSamples | null> {
    if (!Number.isInteger(perClass) || perClass < 0 || perClass > MAX_SAMPLES_PER_CLASS) {
      throw AppError.badInput(
        `imageSamples(perClass): must be a whole number from 0 to ${MAX_SAMPLES_PER_CLASS}, got ${perClass}`,
      );
    }
    if (dataset.format !== 'images' || dataset.status !== 'READY') return Promise.resolve(null);
    const key = `${dataset.id}:${perClass}`;
    let result = this.cache.get(key);
    if (!result) {
      result = this.compute(dataset, perClass);
      result.catch(() => this.cache.delete(key));
      this.cache.set(key, result);
      if (this.cache.size > CACHED_DATASETS) this.cache.delete(this.cache.keys().next().value!);
    }
    return result;
  }

  private async compute(dataset: Dataset, perClass: number): Promise<ImageSamples> {
    const taken = new Map<string, number>();
    const samples: ImageSamples['samples'] = [];
    const scan = await scanImageArchive(this.files.pathOf(dataset.id), {
      maxUnpackedBytes: this.config.limits.maxUploadBytes,
      onImage: (image, row) => {
        const count = taken.get(row.label) ?? 0;
        if (count >= perClass) return;
        taken.set(row.label, count + 1);
        samples.push({ label: row.label, file: row.file, thumbnail: thumbnail(image) });
      },
    });
    const counts = new Map<string, number>();
    for (const row of scan.rows) counts.set(row.label, (counts.get(row.label) ?? 0) + 1);
    const classes = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'en', { numeric: true }))
      .map(([label, count]) => ({ label, count }));
    samples.sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
    return { classes, samples };
  }
}
