import { describe, expect, it } from 'vitest';

import { writeTemp } from '../../../test/support/fixtures.js';
import { isMissing, typedCell } from './cells.js';
import { analyzeDataset } from './dataset-analysis.js';
import { readDatasetRows, sniffDelimiter } from './dataset-reader.js';

async function rows(content: string, name: string, format: 'csv' | 'jsonl') {
  const out = [];
  for await (const row of readDatasetRows(writeTemp(name, content), format)) out.push(row);
  return out;
}

describe('dataset reading', () => {
  it('sniffs comma, semicolon and tab, ignoring delimiters inside quotes', async () => {
    expect(await sniffDelimiter(writeTemp('c.csv', 'a,b;c\n'))).toBe(',');
    expect(await sniffDelimiter(writeTemp('s.csv', 'a;b;"x,y,z"\n'))).toBe(';');
    expect(await sniffDelimiter(writeTemp('t.csv', 'a\tb\tc\n'))).toBe('\t');
  });

  it('reads RFC 4180 quoting: embedded delimiters, doubled quotes and newlines', async () => {
    const read = await rows('name,"note, with comma"\n"Smith, J","said ""hi""\nthen left"\n', 'q.csv', 'csv');
    expect(read).toEqual([{ line: 2, cells: { name: 'Smith, J', 'note, with comma': 'said "hi"\nthen left' } }]);
  });

  it('reads JSON Lines, treating keys first seen later as missing before', async () => {
    const read = await rows('{"a":1}\n\n{"a":2,"b":"x"}\n', 'r.jsonl', 'jsonl');
    expect(read.map((row) => row.cells)).toEqual([{ a: 1 }, { a: 2, b: 'x' }]);
  });
});

describe('type inference and statistics', () => {
  it('infers NUMBER, STRING, BOOLEAN and DATE and counts missing values', async () => {
    const csv = [
      'n,s,b,d,mixed',
      '1,x,true,2024-01-01,1',
      '2.5,y,FALSE,2024-02-01T10:00:00Z,a',
      'NA,x,,2024-03-01,2',
      ',null,true,NaN,3',
    ].join('\n');
    const { rowCount, columns } = await analyzeDataset(writeTemp('types.csv', csv), 'csv');
    expect(rowCount).toBe(4);
    const byName = Object.fromEntries(columns.map((c) => [c.name, c]));
    expect(byName.n).toEqual({ name: 'n', type: 'NUMBER', missing: 2, distinct: 2, min: 1, max: 2.5, mean: 1.75 });
    expect(byName.s).toMatchObject({ type: 'STRING', missing: 1, distinct: 2, min: null });
    expect(byName.b).toMatchObject({ type: 'BOOLEAN', missing: 1, distinct: 2 });
    expect(byName.d).toMatchObject({ type: 'DATE', missing: 1, min: Date.parse('2024-01-01') });
    expect(byName.mixed).toMatchObject({ type: 'STRING', missing: 0, distinct: 4 });
  });

  it('estimates distinct counts past the exact limit within a few percent', async () => {
    const lines = ['id'];
    for (let i = 0; i < 50_000; i++) lines.push(`k${i}`);
    const { columns } = await analyzeDataset(writeTemp('many.csv', lines.join('\n')), 'csv');
    expect(columns[0].distinct).toBeGreaterThan(50_000 * 0.95);
    expect(columns[0].distinct).toBeLessThan(50_000 * 1.05);
  });

  it('treats only the contract list as missing', () => {
    for (const cell of ['', 'NA', 'NaN', 'null', ' NA ', null]) expect(isMissing(cell)).toBe(true);
    for (const cell of ['0', 'na', 'None', 0, false]) expect(isMissing(cell)).toBe(false);
    expect(typedCell('2.5e3', 'NUMBER')).toBe(2500);
    expect(typedCell('True', 'BOOLEAN')).toBe(true);
  });
});
