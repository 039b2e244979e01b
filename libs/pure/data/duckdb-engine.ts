import { availableParallelism, tmpdir } from 'node:os';

import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

import { DatasetError } from './dataset-error.js';
import { MAX_FIELD_BYTES, readDatasetRows, sniffDelimiter } from './dataset-reader.js';

/**
 * DuckDB's memory for one analysis or one load: past it, DuckDB spills to its temp directory instead of
 * growing, so a 1 GB file costs the same memory as a 100 MB one.
 */
const ENGINE_MEMORY_LIMIT = '256MB';

/** A DuckDB database in memory for one job; closed by the caller. */
export async function openEngine(tempDirectory = tmpdir()): Promise<{ connection: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(Math.max(1, Math.min(4, availableParallelism()))),
    memory_limit: ENGINE_MEMORY_LIMIT,
    temp_directory: tempDirectory,
    enable_external_access: 'true',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  // Offset-less times are read in the process's zone, as Date.parse reads them (ICU is built into the binary).
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  await connection.run(`SET TimeZone = ${sqlString(zone)}`).catch(() => undefined);
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The header of a CSV as the streaming reader sees it (trimmed names, checked for empty and repeated
 * names), read through csv-parse so that quoting and the delimiter match the reference path exactly.
 */
export async function csvHeader(path: string): Promise<string[]> {
  let header: string[] | undefined;
  const rows = readDatasetRows(path, 'csv', (columns) => (header = columns));
  try {
    await rows.next();
  } finally {
    await rows.return(undefined);
  }
  if (!header) throw new DatasetError('the file is empty');
  return header;
}

/**
 * A DuckDB table expression reading every column of a CSV as text, columns named c0…cN (the real names,
 * punctuation and all, stay in JS). Strict: a row with another number of fields is an error, not padded.
 */
export async function csvSource(path: string, columnCount: number, types?: string[]): Promise<string> {
  const delimiter = await sniffDelimiter(path);
  const columns = Array.from({ length: columnCount }, (_, i) => `'c${i}': '${types?.[i] ?? 'VARCHAR'}'`).join(', ');
  // The contract's missing markers are NULL for typed columns; text columns see them as text (and trimmed).
  const nulls = types ? `nullstr = ['', 'NA', 'NaN', 'null'],` : '';
  return `read_csv(${sqlString(path)}, delim = ${sqlString(delimiter)}, quote = '"', escape = '"', header = true,
    auto_detect = false, columns = {${columns}}, strict_mode = true, null_padding = false, ${nulls}
    max_line_size = ${MAX_FIELD_BYTES * 2}, encoding = 'utf-8')`;
}
