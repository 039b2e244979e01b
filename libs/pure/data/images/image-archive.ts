import { posix } from 'node:path';
import { inflateRawSync } from 'node:zlib';

import { parse as parseCsv } from 'csv-parse/sync';
import yauzl, { type Entry, type ZipFile } from 'yauzl';

import { DatasetError } from '../dataset-error.js';
import {
  type DecodedImage,
  decodeImage,
  ImageDecodeError,
  imageKind,
  imageSize,
  MAX_IMAGE_SIDE,
} from './image-decoder.js';

export const IMAGE_SPLITS = ['train', 'validation'] as const;
export type ImageSplit = (typeof IMAGE_SPLITS)[number];

/** One kept image: its path inside the archive, its class and (from labels.csv) its split. */
export interface ImageRow {
  file: string;
  label: string;
  split?: ImageSplit;
}

export interface ImageArchiveScan {
  rows: ImageRow[];
  warnings: string[];
  /** labels.csv has a split column. */
  hasSplit: boolean;
}

const LABELS_FILE = 'labels.csv';
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** A labels.csv larger than this is refused rather than read into memory. */
const MAX_LABELS_BYTES = 64 * 1024 * 1024;
/** No PNG or JPEG within 4096×4096 unpacks to more: a larger entry is skipped without being inflated. */
const MAX_ENTRY_BYTES = 256 * 1024 * 1024;

/** Entries that archivers add beside the user's files: not files of the dataset, so not worth a warning. */
function isArchiverNoise(name: string): boolean {
  return name.startsWith('__MACOSX/') || posix.basename(name) === '.DS_Store' || posix.basename(name) === 'Thumbs.db';
}

function entryName(entry: Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  // General purpose bit 11: the name is UTF-8; otherwise CP437, whose ASCII part latin1 reads the same.
  return raw.toString((entry.generalPurposeBitFlag & 0x800) !== 0 ? 'utf8' : 'latin1');
}

/**
 * Refuses an entry that would land outside the folder it is unpacked into: an absolute path, a
 * drive letter, a `..` segment, or a symbolic link (whose target could point anywhere).
 */
function checkEntry(name: string, entry: Entry): string {
  const normalized = name.replace(/\\/g, '/');
  if (normalized.startsWith('/') || /^[a-zA-Z]:/.test(normalized)) {
    throw new DatasetError(`the archive entry "${name}" has an absolute path; the upload is refused`);
  }
  if (normalized.split('/').includes('..'))
    throw new DatasetError(`the archive entry "${name}" escapes the archive with ".."; the upload is refused`);
  if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
    throw new DatasetError(`the archive entry "${name}" is a symbolic link; the upload is refused`);
  }
  if (normalized.includes('\0'))
    throw new DatasetError(`the archive entry "${name}" has a NUL byte in its name; the upload is refused`);
  return normalized;
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
      (error, zip) => {
        if (error) reject(new DatasetError(`the file is not a readable ZIP archive (${error.message})`));
        else resolve(zip);
      },
    );
  });
}

function listEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', (error: Error) => reject(new DatasetError(`the ZIP archive is damaged (${error.message})`)));
    zip.readEntry();
  });
}

/** Tracks the bytes unpacked so far against the upload limit: a ZIP bomb stops at the limit, not at the disk's end. */
class UnpackBudget {
  unpacked = 0;
  constructor(private readonly limit: number) {}

  /** Refuses an entry whose declared size alone would go over the limit. */
  reserve(bytes: number, name: string): void {
    if (this.unpacked + bytes > this.limit) this.refuse(name);
  }

  get remaining(): number {
    return this.limit - this.unpacked;
  }

  add(bytes: number, name: string): void {
    this.unpacked += bytes;
    if (this.unpacked > this.limit) this.refuse(name);
  }

  refuse(name: string): never {
    throw new DatasetError(
      `the archive unpacks to more than MAX_UPLOAD_BYTES (${this.limit} bytes; over it at "${name}"); the upload ` +
        `is refused`,
    );
  }
}

/**
 * An entry's bytes. The compressed bytes are read as they are and inflated in one synchronous call: a per-entry
 * inflate stream costs more than decoding a small image. The declared size is checked first (cheap), and the
 * inflate is capped at what the budget has left, so a header that lies about its size cannot unpack more either.
 */
async function readEntry(zip: ZipFile, entry: Entry, name: string, budget: UnpackBudget): Promise<Buffer> {
  budget.reserve(entry.uncompressedSize, name);
  if (entry.uncompressedSize > MAX_ENTRY_BYTES)
    throw new ImageDecodeError(`unpacks to ${entry.uncompressedSize} bytes, more than any image within the size limit`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
    throw new ImageDecodeError(
      `uses ZIP compression method ${entry.compressionMethod} (only stored and deflate are read)`,
    );
  const raw = await new Promise<Buffer>((resolve, reject) => {
    // yauzl refuses decompress: false on a stored entry (its bytes are already the file's).
    zip.openReadStream(entry, entry.compressionMethod === 8 ? { decompress: false } : {}, (error, stream) => {
      if (error) return reject(new ImageDecodeError(`cannot be unpacked (${error.message})`));
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('error', (streamError) =>
        reject(new ImageDecodeError(`cannot be unpacked (${streamError.message})`)),
      );
      stream.once('end', () => resolve(Buffer.concat(chunks)));
    });
  });
  let data: Buffer;
  if (entry.compressionMethod === 0) data = raw;
  else {
    const cap = Math.min(budget.remaining, MAX_ENTRY_BYTES);
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, cap + 1) });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        if (cap === budget.remaining) budget.refuse(name);
        throw new ImageDecodeError(
          `unpacks to more than ${MAX_ENTRY_BYTES} bytes, more than any image within the size limit`,
        );
      }
      throw new ImageDecodeError(`cannot be unpacked (${(error as Error).message})`);
    }
  }
  if (data.length !== entry.uncompressedSize)
    throw new ImageDecodeError(`unpacks to ${data.length} bytes, not the ${entry.uncompressedSize} its header says`);
  budget.add(data.length, name);
  return data;
}

function parseLabels(text: string): Map<string, { label: string; split?: ImageSplit; line: number }> {
  let records: string[][];
  try {
    records = parseCsv(text, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][];
  } catch (error) {
    throw new DatasetError(`${LABELS_FILE} is not valid CSV (${(error as Error).message})`);
  }
  const header = (records.shift() ?? []).map((cell) => cell.toLowerCase());
  const fileColumn = header.indexOf('file');
  const labelColumn = header.indexOf('label');
  const splitColumn = header.indexOf('split');
  if (fileColumn < 0 || labelColumn < 0)
    throw new DatasetError(
      `${LABELS_FILE} needs a header row with "file" and "label" (and optionally "split"), got ` +
        `${JSON.stringify(header)}`,
    );
  const labels = new Map<string, { label: string; split?: ImageSplit; line: number }>();
  records.forEach((record, index) => {
    const line = index + 2;
    const file = (record[fileColumn] ?? '').replace(/\\/g, '/').replace(/^\.\//, '');
    const label = record[labelColumn] ?? '';
    if (!file || !label) throw new DatasetError(`${LABELS_FILE} line ${line}: "file" and "label" must both be given`);
    let split: ImageSplit | undefined;
    if (splitColumn >= 0) {
      const value = (record[splitColumn] ?? '').toLowerCase();
      if (!IMAGE_SPLITS.includes(value as ImageSplit))
        throw new DatasetError(
          `${LABELS_FILE} line ${line}: split must be "train" or "validation", got "${record[splitColumn] ?? ''}"`,
        );
      split = value as ImageSplit;
    }
    labels.set(file, { label, split, line });
  });
  return labels;
}

/**
 * Reads an image ZIP: every entry is checked (an escaping one refuses the whole archive), each
 * image is decoded and handed to `onImage` with its row; what is skipped is named in `warnings`.
 * The class of an image is the folder it sits in, unless a root `labels.csv` maps files to labels.
 * Entries are visited in the archive's order, so the rows come out the same at upload and at training.
 */
export async function scanImageArchive(
  path: string,
  options: { maxUnpackedBytes: number; onImage?: (image: DecodedImage, row: ImageRow, index: number) => void },
): Promise<ImageArchiveScan> {
  const zip = await openZip(path);
  try {
    const entries = await listEntries(zip);
    const named = entries.map((entry) => ({ entry, name: checkEntry(entryName(entry), entry) }));
    const budget = new UnpackBudget(options.maxUnpackedBytes);
    const warnings: string[] = [];
    const labelsEntry = named.find(({ name }) => name === LABELS_FILE);
    let labels: ReturnType<typeof parseLabels> | undefined;
    if (labelsEntry) {
      if (labelsEntry.entry.uncompressedSize > MAX_LABELS_BYTES)
        throw new DatasetError(`${LABELS_FILE} is over ${MAX_LABELS_BYTES} bytes`);
      labels = parseLabels((await readEntry(zip, labelsEntry.entry, LABELS_FILE, budget)).toString('utf8'));
    }
    const rows: ImageRow[] = [];
    const listed = new Set<string>();
    for (const { entry, name } of named) {
      if (name.endsWith('/') || name === LABELS_FILE || isArchiverNoise(name)) continue;
      let row: ImageRow;
      if (labels) {
        const labelled = labels.get(name);
        if (!labelled) {
          warnings.push(`${name}: skipped, not listed in ${LABELS_FILE}`);
          continue;
        }
        listed.add(name);
        row = { file: name, label: labelled.label, ...(labelled.split ? { split: labelled.split } : {}) };
      } else {
        const folder = posix.basename(posix.dirname(name));
        if (folder === '.' || folder === '') {
          warnings.push(
            `${name}: skipped, not in a class folder (put each image in a folder named by its class, or add a ` +
              `${LABELS_FILE})`,
          );
          continue;
        }
        row = { file: name, label: folder };
      }
      let bytes: Buffer;
      try {
        bytes = await readEntry(zip, entry, name, budget);
      } catch (error) {
        if (error instanceof ImageDecodeError) {
          warnings.push(`${name}: skipped, ${error.message}`);
          continue;
        }
        throw error;
      }
      const kind = imageKind(bytes);
      if (!kind) {
        warnings.push(`${name}: skipped, not an image (only PNG and JPEG are read)`);
        continue;
      }
      const size = imageSize(bytes, kind);
      if (size && (size.width > MAX_IMAGE_SIDE || size.height > MAX_IMAGE_SIDE)) {
        warnings.push(
          `${name}: skipped, ${size.width}×${size.height} is over the ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE} limit`,
        );
        continue;
      }
      let image: DecodedImage;
      try {
        image = decodeImage(bytes);
      } catch (error) {
        if (!(error instanceof ImageDecodeError)) throw error;
        warnings.push(`${name}: skipped, ${error.message}`);
        continue;
      }
      options.onImage?.(image, row, rows.length);
      rows.push(row);
    }
    if (labels) {
      for (const [file, { line }] of labels)
        if (!listed.has(file)) warnings.push(`${LABELS_FILE} line ${line}: "${file}" is not in the archive`);
    }
    return {
      rows,
      warnings,
      hasSplit: labels !== undefined && [...labels.values()].some((entry) => entry.split !== undefined),
    };
  } finally {
    zip.close();
  }
}

/**
 * Random access to the entries of an archive already accepted at upload (names checked, sizes known), for a
 * training run that reads its images batch by batch instead of holding them all.
 */
export class ImageArchiveReader {
  private constructor(
    private readonly zip: ZipFile,
    private readonly entries: Map<string, Entry>,
  ) {}

  static async open(path: string): Promise<ImageArchiveReader> {
    const zip = await openZip(path);
    const entries = new Map<string, Entry>();
    for (const entry of await listEntries(zip)) entries.set(checkEntry(entryName(entry), entry), entry);
    return new ImageArchiveReader(zip, entries);
  }

  read(name: string): Promise<Buffer> {
    const entry = this.entries.get(name);
    if (!entry) return Promise.reject(new DatasetError(`the archive has no entry "${name}"`));
    return readEntry(this.zip, entry, name, new UnpackBudget(Infinity));
  }

  close(): void {
    this.zip.close();
  }
}
