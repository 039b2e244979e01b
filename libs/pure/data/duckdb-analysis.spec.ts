import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { irisCsv, writeTemp } from '../../../test/support/fixtures.js';
import type { Cell } from './cells.js';
import { tableFromRows } from './column-table.js';
import { analyzeDataset } from './dataset-analysis.js';
import { readDatasetRows } from './dataset-reader.js';
import { analyzeCsvWithDuckDB, analyzeParquetWithDuckDB, DUCKDB_MAX_COLUMNS } from './duckdb-analysis.js';
import { openEngine, sqlString } from './duckdb-engine.js';
import { loadTableWithDuckDB } from './duckdb-table.js';

/** A CSV with every type, the missing markers (padded too), quoting, punctuated names and a late type change. */
function mixedCsv(rows: number): string {
  const lines = ['id;"price ($)";flag;day;when;city;"note, quoted";late;review'];
  for (let i = 0; i < rows; i++) {
    const price = i % 7 === 0 ? (i % 14 === 0 ? 'NA' : ' NaN ') : (i * 1.25 - 40).toFixed(2);
    const flag = i % 5 === 0 ? '' : i % 2 ? 'TRUE' : 'false';
    const day = `2024-0${1 + (i % 9)}-1${i % 10}`;
    const when = `2024-02-0${1 + (i % 9)}T10:0${i % 10}:00Z`;
    const city = ['Oslo', ' Lima ', 'Quito', 'null'][i % 4];
    const note = i % 3 ? `"said ""hi""; then ${i}"` : 'plain';
    // A number column for the sample's 4096 rows that turns to text later: the typed guess must not stand.
    const late = i === rows - 2 ? 'unknown' : String(i % 50);
    // Free text: long strings (a TEXT column), some missing.
    const review =
      i % 4 ? `a long review of item ${i} that goes on and on about how it ${i % 2 ? 'works' : 'broke'}` : 'NA';
    lines.push([i, price, flag, day, when, city, note, late, review].join(';'));
  }
  return lines.join('\n') + '\n';
}

async function toParquet(csvPath: string, name: string): Promise<string> {
  const target = writeTemp(name, '');
  const engine = await openEngine();
  try {
    await engine.connection.run(
      `COPY (SELECT * FROM read_csv(${sqlString(csvPath)})) TO ${sqlString(target)} (FORMAT parquet)`,
    );
  } finally {
    engine.close();
  }
  return target;
}

describe('DuckDB analysis', () => {
  it("gives the streaming analyser's types and statistics on a mixed CSV", async () => {
    const path = writeTemp('mixed.csv', mixedCsv(5000));
    const fast = await analyzeCsvWithDuckDB(path);
    const reference = await analyzeDataset(path, 'csv');
    expect(fast).toBeDefined();
    expect(fast!.rowCount).toBe(reference.rowCount);
    expect(fast!.columns.map((c) => [c.name, c.type])).toEqual(reference.columns.map((c) => [c.name, c.type]));
    expect(fast!.columns.find((c) => c.name === 'review')!.type).toBe('TEXT');
    for (const [i, column] of fast!.columns.entries()) {
      const expected = reference.columns[i];
      expect(column, column.name).toMatchObject({
        missing: expected.missing,
        distinct: expected.distinct,
        min: expected.min,
        max: expected.max,
      });
      if (expected.mean === null) expect(column.mean).toBeNull();
      else expect(column.mean).toBeCloseTo(expected.mean, 9);
    }
    expect(fast!.columns.find((c) => c.name === 'late')!.type).toBe('STRING');
    expect(fast!.columns.find((c) => c.name === 'city')).toMatchObject({ missing: 1250, distinct: 3 });
  });

  it('does not let a plain-date sample hide a later time of day, nor a padded number', async () => {
    const lines = ['day,amount'];
    for (let i = 0; i < 6000; i++) lines.push(`2024-01-${String(1 + (i % 28)).padStart(2, '0')},${i}`);
    lines.push('2024-03-01T12:30:00Z, 7 ');
    const path = writeTemp('late-time.csv', lines.join('\n'));
    const fast = await analyzeCsvWithDuckDB(path);
    const reference = await analyzeDataset(path, 'csv');
    expect(fast!.columns).toEqual(reference.columns);
    expect(fast!.columns[0]).toMatchObject({ type: 'DATE', max: Date.parse('2024-03-01T12:30:00Z') });
  });

  it('leaves to the streaming analyser what only it can name: an infinite number, a NUL byte, a bad row', async () => {
    expect(await analyzeCsvWithDuckDB(writeTemp('inf.csv', 'a,b\n1,2\n3,inf\n'))).toBeUndefined();
    expect(await analyzeCsvWithDuckDB(writeTemp('big.csv', 'a,b\n1,2\n3,1e400\n'))).toBeUndefined();
    // Past the first 64 KiB the header read does not see it: the byte scan does.
    const late = Buffer.from('a,b\n' + '1,2\n'.repeat(40_000) + '3,\u0000\n');
    expect(await analyzeCsvWithDuckDB(writeTemp('nul.csv', late))).toBeUndefined();
    await expect(analyzeCsvWithDuckDB(writeTemp('nul1.csv', Buffer.from('a,\u0000b\n1,2\n')))).rejects.toThrow(
      'NUL byte at byte 2',
    );
    await expect(analyzeCsvWithDuckDB(writeTemp('short.csv', 'a,b\n1,2\n3\n'))).rejects.toThrow(
      'row on line 3 has 1 fields but the header has 2',
    );
    expect(
      await analyzeCsvWithDuckDB(writeTemp('short2.csv', 'a,b\n' + '1,2\n'.repeat(40_000) + '3\n')),
    ).toBeUndefined();
  });

  it('reads a Parquet file written from the same rows to the same types and statistics', async () => {
    const csv = writeTemp('iris.csv', irisCsv());
    const parquet = await toParquet(csv, 'iris.parquet');
    const fromParquet = await analyzeParquetWithDuckDB(parquet);
    const fromCsv = await analyzeDataset(csv, 'csv');
    expect(fromParquet.rowCount).toBe(150);
    expect(fromParquet.columns.map((c) => c.name)).toEqual(fromCsv.columns.map((c) => c.name));
    for (const [i, column] of fromParquet.columns.entries()) {
      const expected = fromCsv.columns[i];
      expect(column).toMatchObject({
        type: expected.type,
        missing: expected.missing,
        distinct: expected.distinct,
        min: expected.min,
        max: expected.max,
      });
    }
    expect(fromParquet.columns[4]).toMatchObject({ name: 'Species', type: 'STRING', distinct: 3 });
  });

  it(
    'keeps memory bounded on a wide table: a wide CSV goes to the streaming analyser, a wide Parquet by column ' +
      'groups',
    async () => {
      // 785 columns, as MNIST's pixels: one DuckDB query over all of them took over 20 GB.
      const width = DUCKDB_MAX_COLUMNS * 2 + 5;
      const lines = [Array.from({ length: width }, (_, i) => (i ? `p${i}` : 'label')).join(',')];
      for (let r = 0; r < 300; r++)
        lines.push(Array.from({ length: width }, (_, i) => (i ? ((r * i) % 256) / 255 : r % 10)).join(','));
      const csv = writeTemp('wide.csv', lines.join('\n') + '\n');
      expect(await analyzeCsvWithDuckDB(csv)).toBeUndefined();
      const reference = await analyzeDataset(csv, 'csv');
      const parquet = await analyzeParquetWithDuckDB(await toParquet(csv, 'wide.parquet'));
      expect(parquet.rowCount).toBe(300);
      expect(parquet.columns.map((c) => [c.name, c.type, c.missing, c.distinct])).toEqual(
        reference.columns.map((c) => [c.name, c.type, c.missing, c.distinct]),
      );
      for (const [i, column] of parquet.columns.entries())
        expect(column.mean).toBeCloseTo(reference.columns[i].mean!, 9);
    },
  );

  it('refuses a corrupt Parquet file and a nested column by name', async () => {
    const csv = writeTemp('iris2.csv', irisCsv());
    const bytes = readFileSync(await toParquet(csv, 'iris-whole.parquet'));
    const corrupt = writeTemp(
      'corrupt.parquet',
      Buffer.concat([bytes.subarray(0, 200), Buffer.alloc(64, 7), bytes.subarray(bytes.length - 8)]),
    );
    await expect(analyzeParquetWithDuckDB(corrupt)).rejects.toThrow(/Parquet/);
    await expect(analyzeParquetWithDuckDB(writeTemp('text.parquet', 'a,b\n1,2\n'))).rejects.toThrow(
      'not a readable Parquet file',
    );
    const nested = writeTemp('nested.parquet', '');
    const engine = await openEngine();
    await engine.connection.run(`COPY (SELECT 1 AS id, [1, 2] AS list) TO ${sqlString(nested)} (FORMAT parquet)`);
    engine.close();
    await expect(analyzeParquetWithDuckDB(nested)).rejects.toThrow('Parquet column "list" has type INTEGER[]');
  });

  it('loads columns into typed arrays the same as the row path', async () => {
    const path = writeTemp('mixed2.csv', mixedCsv(3000));
    const { columns } = await analyzeDataset(path, 'csv');
    const rows: Record<string, Cell>[] = [];
    for await (const row of readDatasetRows(path, 'csv')) rows.push(row.cells);
    const expected = tableFromRows(rows, columns);
    const loaded = await loadTableWithDuckDB(path, 'csv', columns, 10);
    expect(loaded.rowCount).toBe(3000);
    for (const { name } of columns) {
      const a = loaded.columns.get(name)!;
      const b = expected.columns.get(name)!;
      if (a.kind === 'text' && b.kind === 'text') {
        expect(
          [...a.codes].map((code) => (code < 0 ? null : a.dictionary[code])),
          name,
        ).toEqual([...b.codes].map((code) => (code < 0 ? null : b.dictionary[code])));
      } else if (a.kind === 'numeric' && b.kind === 'numeric') {
        expect([...a.missing], name).toEqual([...b.missing]);
        expect([...a.values], name).toEqual([...b.values]);
      } else {
        throw new Error(`column ${name} has kinds ${a.kind} and ${b.kind}`);
      }
    }
  });
});
