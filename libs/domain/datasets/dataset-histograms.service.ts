import { Injectable } from '@nestjs/common';

import { AppError } from '#libs/core/errors';
import { asNumber, type DatasetFormat, isMissing, readDatasetRows } from '#libs/pure/data';

import { DatasetFilesRepository } from './dataset-files.repository.js';
import type { Dataset } from './dto/dataset.type.js';

export const MIN_BINS = 2;
export const MAX_BINS = 100;
/** Values named for a categorical column; the rest are counted together as `other`. */
const TOP_VALUES = 8;
const CACHED_DATASETS = 16;

export type ColumnHistogram =
  | { kind: 'numeric'; edges: number[]; counts: number[] }
  | { kind: 'categorical'; values: string[]; counts: number[]; other: number };

/**
 * One histogram per column, read from the stored file in one pass: equal-width bins between the column's min and
 * max (already known from its statistics) for numbers, the most frequent values for strings and booleans. A
 * dataset's file never changes, so each (dataset, bins) is computed once and kept.
 */
/** Formats read row by row (an images dataset is a ZIP scanned otherwise). */
const ROW_FORMATS: readonly DatasetFormat[] = ['csv', 'jsonl'];

@Injectable()
export class DatasetHistogramsService {
  private readonly cache = new Map<string, Promise<Record<string, ColumnHistogram> | null>>();

  constructor(private readonly files: DatasetFilesRepository) {}

  histograms(dataset: Dataset, bins: number): Promise<Record<string, ColumnHistogram> | null> {
    if (!Number.isInteger(bins) || bins < MIN_BINS || bins > MAX_BINS) {
      throw AppError.badInput(`histograms(bins): must be a whole number from ${MIN_BINS} to ${MAX_BINS}, got ${bins}`);
    }
    if (dataset.status !== 'READY' || !ROW_FORMATS.includes(dataset.format as DatasetFormat))
      return Promise.resolve(null);
    const key = `${dataset.id}:${bins}`;
    let result = this.cache.get(key);
    if (!result) {
      result = this.compute(dataset, bins);
      result.catch(() => this.cache.delete(key));
      this.cache.set(key, result);
      if (this.cache.size > CACHED_DATASETS) this.cache.delete(this.cache.keys().next().value!);
    }
    return result;
  }

  private async compute(dataset: Dataset, bins: number): Promise<Record<string, ColumnHistogram>> {
    const numeric = dataset.columns.filter(
      (column) => column.type === 'NUMBER' && column.min !== null && column.max !== null,
    );
    const categorical = dataset.columns.filter((column) => column.type === 'STRING' || column.type === 'BOOLEAN');
    const numericCounts = new Map(numeric.map((column) => [column.name, new Array<number>(bins).fill(0)]));
    const valueCounts = new Map(categorical.map((column) => [column.name, new Map<string, number>()]));
    for await (const row of readDatasetRows(this.files.pathOf(dataset.id), dataset.format as DatasetFormat)) {
      for (const column of numeric) {
        const value = asNumber(row.cells[column.name] ?? null);
        if (value === undefined) continue;
        const width = column.max! - column.min!;
        const bin = width > 0 ? Math.min(bins - 1, Math.max(0, Math.floor(((value - column.min!) / width) * bins))) : 0;
        numericCounts.get(column.name)![bin]++;
      }
      for (const column of categorical) {
        const cell = row.cells[column.name] ?? null;
        if (isMissing(cell)) continue;
        const counts = valueCounts.get(column.name)!;
        const value = String(cell).trim();
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
    }
    const result: Record<string, ColumnHistogram> = {};
    for (const column of numeric) {
      const width = (column.max! - column.min!) / bins;
      const edges = Array.from({ length: bins + 1 }, (_, index) => column.min! + index * width);
      result[column.name] = { kind: 'numeric', edges, counts: numericCounts.get(column.name)! };
    }
    for (const column of categorical) {
      const sorted = [...valueCounts.get(column.name)!.entries()].sort(
        (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
      );
      const top = sorted.slice(0, TOP_VALUES);
      const other = sorted.slice(TOP_VALUES).reduce((sum, [, count]) => sum + count, 0);
      result[column.name] = {
        kind: 'categorical',
        values: top.map(([value]) => value),
        counts: top.map(([, count]) => count),
        other,
      };
    }
    return result;
  }
}
