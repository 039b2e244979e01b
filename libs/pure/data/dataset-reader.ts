import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';

import { CsvError, parse } from 'csv-parse';

import type { Cell } from './cells.js';
import { DatasetError } from './dataset-error.js';
import { readParquetRows } from './parquet-rows.js';

/** A row's cells by column name, with no prototype: a column named `__proto__` or `constructor` is a column. */
function newCells(): Record<string, Cell> {
  return Object.create(null) as Record<string, Cell>;
}

/** `images`: a ZIP of images (see images/image-archive.ts), a table only through its analysis, not row by row. */
export type DatasetFormat = 'csv' | 'jsonl' | 'parquet' | 'images';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['csv', 'jsonl', 'parquet', 'images'];

/** One field may be this long at most; a longer one is refused rather than buffered. */
export const MAX_FIELD_BYTES = 1_000_000;
export const MAX_COLUMNS = 10_000;

export interface DatasetRow {
  /**
   * 1-based line of the row (the header is line 1 of a CSV); counted as one line a row, so a quoted field spanning
   * lines shifts it.
   */
  line: number;
  cells: Record<string, Cell>;
}

export function formatFromFileName(fileName: string): DatasetFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv') || lower.endsWith('.tsv') || lower.endsWith('.txt')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.zip')) return 'images';
  return undefined;
}

/**
 * Decodes UTF-8 strictly, refusing NUL bytes and invalid sequences with the byte offset,
 * so a binary file fails early with a message instead of turning into garbage columns.
 */
class StrictUtf8Decoder extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  private offset = 0;

  constructor() {
    super({ readableObjectMode: false, decodeStrings: true, encoding: 'utf8' });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      callback(new DatasetError(`the file is not text: it holds a NUL byte at byte ${this.offset + nul}`));
      return;
    }
    try {
      const text = this.decoder.decode(chunk, { stream: true });
      this.offset += chunk.length;
      callback(null, text);
    } catch {
      callback(new DatasetError(`the file is not valid UTF-8 text (bad byte sequence near byte ${this.offset})`));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      callback(null, this.decoder.decode());
    } catch {
      callback(new DatasetError('the file is not valid UTF-8 text (it ends inside a multi-byte character)'));
    }
  }
}

/** Picks the delimiter (comma, semicolon or tab) that the header line holds most of, outside quotes. */
export async function sniffDelimiter(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(65_536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0 };
    let quoted = false;
    for (const char of text) {
      if (char === '"') quoted = !quoted;
      else if (!quoted && (char === '\n' || char === '\r')) break;
      else if (!quoted && char in counts) counts[char]++;
    }
    const [best] = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    return best[1] > 0 ? best[0] : ',';
  } finally {
    await handle.close();
  }
}

function checkHeader(columns: string[]): string[] {
  if (columns.length > MAX_COLUMNS) {
    throw new DatasetError(`the header has ${columns.length} columns; at most ${MAX_COLUMNS} are allowed`);
  }
  const seen = new Set<string>();
  return columns.map((raw, index) => {
    const name = raw.trim();
    if (!name) throw new DatasetError(`header column ${index + 1} has an empty name`);
    if (seen.has(name)) throw new DatasetError(`header column ${index + 1} repeats the name "${name}"`);
    seen.add(name);
    return name;
  });
}

function csvMessage(error: CsvError, headerLength: number | undefined): string {
  const line = (error as unknown as { lines?: number }).lines;
  const where = line ? ` on line ${line}` : '';
  switch (error.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
      const record = (error as unknown as { record?: unknown[] }).record;
      return (
        `row${where} has ${record?.length ?? 'a different number of'} fields but the header has ` +
        `${headerLength ?? 'another number'}`
      );
    }
    case 'CSV_MAX_RECORD_SIZE':
      return `a row${where} is longer than ${MAX_FIELD_BYTES} bytes`;
    case 'CSV_QUOTE_NOT_CLOSED':
      return `malformed CSV: a quoted field${where} is never closed`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return `malformed CSV quoting${where}: a closing quote must be followed by the delimiter or the end of the line`;
    default:
      return `malformed CSV${where}: ${error.message}`;
  }
}

async function* readCsv(path: string, onColumns: (columns: string[]) => void): AsyncGenerator<DatasetRow> {
  const delimiter = await sniffDelimiter(path);
  const parser = parse({
    delimiter,
    bom: true,
    skip_empty_lines: true,
    relax_column_count: false,
    max_record_size: MAX_FIELD_BYTES,
  });
  const source = createReadStream(path).pipe(new StrictUtf8Decoder());
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  let columns: string[] | undefined;
  try {
    // csv-parse's per-record `info` costs a third of the parse time, so lines are counted here:
    // exact unless a quoted field spans lines (csv-parse's own errors carry the exact line).
    let line = 0;
    for await (const record of parser as AsyncIterable<string[]>) {
      line++;
      if (!columns) {
        columns = checkHeader(record);
        onColumns(columns);
        continue;
      }
      if (record.length !== columns.length) {
        throw new DatasetError(`row on line ${line} has ${record.length} fields but the header has ${columns.length}`);
      }
      const cells = newCells();
      for (let i = 0; i < columns.length; i++) cells[columns[i]] = record[i];
      yield { line, cells };
    }
  } catch (error) {
    if (error instanceof CsvError) throw new DatasetError(csvMessage(error, columns?.length));
    throw error;
  } finally {
    source.destroy();
  }
  if (!columns) throw new DatasetError('the file is empty');
}

/** Splits decoded text into lines; errors of the source (bad bytes) surface through the for-await. */
async function* textLines(path: string): AsyncGenerator<string> {
  const decoded = createReadStream(path).pipe(new StrictUtf8Decoder());
  let rest = '';
  try {
    for await (const chunk of decoded as AsyncIterable<string>) {
      rest += chunk;
      if (rest.length > MAX_FIELD_BYTES * 2 && !rest.includes('\n'))
        throw new DatasetError(`a line is longer than ${MAX_FIELD_BYTES} bytes`);
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    if (rest) yield rest;
  } finally {
    decoded.destroy();
  }
}

async function* readJsonLines(path: string, onColumns: (columns: string[]) => void): AsyncGenerator<DatasetRow> {
  const columns: string[] = [];
  const known = new Set<string>();
  let lineNumber = 0;
  let seenAny = false;
  for await (const text of textLines(path)) {
    lineNumber++;
    if (!text.trim()) continue;
    seenAny = true;
    if (text.length > MAX_FIELD_BYTES)
      throw new DatasetError(`line ${lineNumber} is longer than ${MAX_FIELD_BYTES} bytes`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DatasetError(`line ${lineNumber} is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DatasetError(`line ${lineNumber} must be a JSON object of column values`);
    }
    const cells = newCells();
    let added = false;
    for (const [key, cell] of Object.entries(value)) {
      if (cell !== null && typeof cell === 'object') {
        throw new DatasetError(
          `line ${lineNumber}, key "${key}": nested objects and arrays are not supported (rows must be flat)`,
        );
      }
      const name = key.trim();
      if (!name) throw new DatasetError(`line ${lineNumber} has an empty key`);
      if (!known.has(name)) {
        known.add(name);
        columns.push(name);
        added = true;
        if (columns.length > MAX_COLUMNS) throw new DatasetError(`the file has more than ${MAX_COLUMNS} distinct keys`);
      }
      cells[name] = cell as Cell;
    }
    if (added) onColumns([...columns]);
    yield { line: lineNumber, cells };
  }
  if (!seenAny) throw new DatasetError('the file is empty');
}

/**
 * Streams the rows of a dataset file; `onColumns` hears the column list as soon as it is known (and as it grows, for
 * JSON Lines).
 */
export function readDatasetRows(
  path: string,
  format: DatasetFormat,
  onColumns: (columns: string[]) => void = () => undefined,
): AsyncGenerator<DatasetRow> {
  if (format === 'images') throw new DatasetError('an images dataset is read with scanImageArchive, not row by row');
  if (format === 'parquet') return readParquetRows(path, onColumns);
  return format === 'csv' ? readCsv(path, onColumns) : readJsonLines(path, onColumns);
}
