import { describe, expect, it } from 'vitest';

import { analyzeDataset, type Cell, loadTableWithDuckDB, readDatasetRows } from '#libs/pure/data';

import { irisCsv, writeTemp } from '../../../test/support/fixtures.js';
import { prepareData, prepareTable } from './preprocessing.js';
import { resolveTrainingConfig } from './training-config.js';

/** Iris with a category (padded, with missing markers), a boolean, a date and gaps in a number column. */
function irisPlus(): string {
  const [header, ...lines] = irisCsv().trim().split('\n');
  return [
    `${header},batch,checked,measured`,
    ...lines.map((line, i) => {
      const cells = line.split(',');
      if (i % 11 === 0) cells[1] = i % 22 ? 'NA' : '';
      const batch = ['north', ' south ', 'east', 'NA'][i % 4];
      return [...cells, batch, i % 3 ? 'true' : 'FALSE', `2024-0${1 + (i % 9)}-1${i % 10}`].join(',');
    }),
  ].join('\n');
}

describe('prepareTable on columns loaded by DuckDB', () => {
  it.each([
    ['drop', 'standard', 'sparseCategoricalCrossentropy'],
    ['mean', 'minmax', 'categoricalCrossentropy'],
  ] as const)(
    "gives prepareData's preprocessing, x and y (missing=%s, normalize=%s)",
    async (missing, normalize, loss) => {
      const path = writeTemp('iris-plus.csv', irisPlus());
      const { columns } = await analyzeDataset(path, 'csv');
      const rows: Record<string, Cell>[] = [];
      for await (const row of readDatasetRows(path, 'csv')) rows.push(row.cells);
      const training = resolveTrainingConfig(
        { target: 'Species', missing, normalize, validationSplit: 0.2, seed: 5 },
        columns,
        1,
      );
      const fromRows = prepareData(rows, columns, training, loss);
      const fromTable = prepareTable(
        await loadTableWithDuckDB(path, 'csv', columns, rows.length),
        columns,
        training,
        loss,
      );
      expect(fromTable.preprocessing).toEqual(fromRows.preprocessing);
      expect(fromTable.preprocessing.features.map((f) => f.kind)).toContain('onehot');
      expect([fromTable.trainRows, fromTable.validationRows, fromTable.droppedRows]).toEqual([
        fromRows.trainRows,
        fromRows.validationRows,
        fromRows.droppedRows,
      ]);
      expect(Buffer.from(fromTable.x.buffer).equals(Buffer.from(fromRows.x.buffer))).toBe(true);
      expect(Buffer.from(fromTable.y.buffer).equals(Buffer.from(fromRows.y.buffer))).toBe(true);
    },
  );

  it('regresses on a number target the same way', async () => {
    const path = writeTemp('iris-plus2.csv', irisPlus());
    const { columns } = await analyzeDataset(path, 'csv');
    const rows: Record<string, Cell>[] = [];
    for await (const row of readDatasetRows(path, 'csv')) rows.push(row.cells);
    const training = resolveTrainingConfig({ target: 'Petal Width (cm)', validationSplit: 0.1, seed: 2 }, columns, 1);
    const fromRows = prepareData(rows, columns, training, 'meanSquaredError');
    const fromTable = prepareTable(
      await loadTableWithDuckDB(path, 'csv', columns),
      columns,
      training,
      'meanSquaredError',
    );
    expect(fromTable.preprocessing).toEqual(fromRows.preprocessing);
    expect([...fromTable.x]).toEqual([...fromRows.x]);
    expect([...fromTable.y]).toEqual([...fromRows.y]);
  });
});
