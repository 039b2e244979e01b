import { describe, expect, it } from 'vitest';

import { writeTemp } from '../../../test/support/fixtures.js';
import { analyzeDataset } from './dataset-analysis.js';

describe('TEXT columns', () => {
  it('types long strings and mostly distinct strings as TEXT, short repeated labels as STRING', async () => {
    const lines = ['review,code,colour,stars'];
    for (let i = 0; i < 30; i++) {
      const verdict = i % 2 ? 'broke after a week, sadly' : 'works well and arrived quickly, thank you';
      const review = `"This product ${verdict}"`;
      lines.push(`${review},id-${i},${['red', 'green', 'blue'][i % 3]},${(i % 5) + 1}`);
    }
    const analysis = await analyzeDataset(writeTemp('reviews.csv', `${lines.join('\n')}\n`), 'csv');
    const types = Object.fromEntries(analysis.columns.map((column) => [column.name, column.type]));
    // review: 2 distinct values but long; code: short but all distinct; colour: 3 short labels.
    expect(types).toEqual({ review: 'TEXT', code: 'TEXT', colour: 'STRING', stars: 'NUMBER' });
  });

  it('keeps a small column of distinct short names STRING (under 20 values there is no telling)', async () => {
    const analysis = await analyzeDataset(writeTemp('names.csv', 'name,n\nAda,1\nBob,2\nCy,3\n'), 'csv');
    expect(analysis.columns[0].type).toBe('STRING');
  });
});
