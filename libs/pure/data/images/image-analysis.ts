import type { ColumnStats, DatasetAnalysis } from '../dataset-analysis.js';
import { DatasetError } from '../dataset-error.js';
import { scanImageArchive } from './image-archive.js';

/** Warnings past this many are summed up in one line, so a huge archive of junk cannot bloat the dataset row. */
const MAX_WARNINGS = 1_000;

/** The stats of a column with no missing cells and no numeric range (an image, a label): its distinct count. */
export function countedColumn(name: string, type: ColumnStats['type'], distinct: number): ColumnStats {
  return { name, type, missing: 0, distinct, min: null, max: null, mean: null };
}

/**
 * The table an image ZIP becomes: `image` (IMAGE, the path inside the archive), `label` (STRING; its `distinct`
 * is the class count) and, when labels.csv gives one, `split`. Every image is decoded once here, so one that does
 * not decode is named in the warnings at upload rather than found at training.
 */
export async function analyzeImageArchive(path: string, maxUnpackedBytes: number): Promise<DatasetAnalysis> {
  const scan = await scanImageArchive(path, { maxUnpackedBytes });
  const warnings =
    scan.warnings.length > MAX_WARNINGS
      ? [...scan.warnings.slice(0, MAX_WARNINGS), `… and ${scan.warnings.length - MAX_WARNINGS} more skipped files`]
      : scan.warnings;
  if (scan.rows.length === 0) {
    const why = warnings.length
      ? `; skipped: ${warnings.slice(0, 5).join('; ')}${warnings.length > 5 ? '; …' : ''}`
      : '';
    throw new DatasetError(`the archive holds no usable PNG or JPEG images${why}`);
  }
  const classes = new Set(scan.rows.map((row) => row.label));
  const columns = [countedColumn('image', 'IMAGE', scan.rows.length), countedColumn('label', 'STRING', classes.size)];
  if (scan.hasSplit) columns.push(countedColumn('split', 'STRING', new Set(scan.rows.map((row) => row.split)).size));
  return { rowCount: scan.rows.length, columns, warnings };
}
