import { describe, expect, it } from 'vitest';

import type { ColumnStats } from '#libs/pure/data';

import { decodeOutputs, encodeRows, prepareData } from './preprocessing.js';
import { resolveTrainingConfig } from './training-config.js';

const columns: ColumnStats[] = [
  { name: 'size', type: 'NUMBER', missing: 1, distinct: 5, min: 1, max: 9, mean: 4 },
  { name: 'colour', type: 'STRING', missing: 0, distinct: 3, min: null, max: null, mean: null },
  { name: 'ok', type: 'BOOLEAN', missing: 0, distinct: 2, min: null, max: null, mean: null },
  { name: 'label', type: 'STRING', missing: 1, distinct: 2, min: null, max: null, mean: null },
];
const rows = [
  { size: '1', colour: 'red', ok: 'true', label: 'a' },
  { size: '3', colour: 'blue', ok: 'false', label: 'b' },
  { size: 'NA', colour: 'red', ok: 'true', label: 'a' },
  { size: '5', colour: 'green', ok: 'false', label: 'b' },
  { size: '9', colour: 'blue', ok: 'true', label: '' },
  { size: '7', colour: 'red', ok: 'true', label: 'b' },
];

describe('prepareData', () => {
  it('drops rows missing a used value, one-hot encodes strings, standardises numbers on the training rows', () => {
    const training = resolveTrainingConfig({ target: 'label', validationSplit: 0, shuffle: false }, columns, 1);
    const data = prepareData(rows, columns, training, 'sparseCategoricalCrossentropy');
    expect(data.droppedRows).toBe(2);
    expect(data.trainRows).toBe(4);
    const [size, colour, ok] = data.preprocessing.features;
    expect(colour).toEqual({ name: 'colour', kind: 'onehot', categories: ['blue', 'green', 'red'] });
    expect(size).toMatchObject({ kind: 'numeric', shift: 4 });
    expect(size.kind === 'numeric' && size.scale).toBeCloseTo(Math.sqrt(5), 6);
    expect(ok).toMatchObject({ kind: 'numeric', sourceType: 'BOOLEAN' });
    expect(data.preprocessing.inputSize).toBe(5);
    expect(data.preprocessing.target).toMatchObject({ task: 'classification', labels: ['a', 'b'] });
    expect([...data.y]).toEqual([0, 1, 1, 1]);
    expect(data.x[0]).toBeCloseTo((1 - 4) / Math.sqrt(5), 6);
    expect([...data.x.subarray(1, 4)]).toEqual([0, 0, 1]);
  });

  it('fills gaps with the training mean under missing=mean and scales to [0,1] under minmax', () => {
    const training = resolveTrainingConfig(
      { target: 'label', features: ['size'], validationSplit: 0, shuffle: false, missing: 'mean', normalize: 'minmax' },
      columns,
      1,
    );
    const data = prepareData(rows, columns, training, 'sparseCategoricalCrossentropy');
    expect(data.trainRows).toBe(5);
    [0, 1 / 3, 0.5, 2 / 3, 1].forEach((value, i) => expect(data.x[i]).toBeCloseTo(value, 6));
  });

  it('splits the same way for the same seed, and another way for another', () => {
    const split = (seed: number) => {
      const training = resolveTrainingConfig(
        { target: 'label', features: ['size'], validationSplit: 0.5, seed, normalize: 'none' },
        columns,
        1,
      );
      return [...prepareData(rows, columns, training, 'sparseCategoricalCrossentropy').x];
    };
    expect(split(3)).toEqual(split(3));
    expect(
      [split(1), split(2), split(4), split(5)].some((other) => JSON.stringify(other) !== JSON.stringify(split(3))),
    ).toBe(true);
  });

  it('encodes raw predict rows with the stored preprocessing and decodes outputs into labels', () => {
    const training = resolveTrainingConfig({ target: 'label', validationSplit: 0, shuffle: false }, columns, 1);
    const { preprocessing } = prepareData(rows, columns, training, 'sparseCategoricalCrossentropy');
    const x = encodeRows(preprocessing, [{ size: 4, colour: 'purple', ok: true }, { colour: 'red' }]);
    expect([...x.subarray(0, 5)]).toEqual([0, 0, 0, 0, x[4]]);
    expect(x[5]).toBe(0); // missing size → training mean → 0 after standardising
    expect(() => encodeRows(preprocessing, [{ size: 'big' }])).toThrow('rows[0].size must be a number, got "big"');
    expect(decodeOutputs(preprocessing, new Float32Array([0.2, 0.8]), 2)).toEqual([
      { prediction: 'b', probabilities: { a: expect.closeTo(0.2, 6), b: expect.closeTo(0.8, 6) } },
    ]);
  });

  it('refuses a single-class target and too many categories, naming the column', () => {
    const one = rows.map((row) => ({ ...row, label: 'a' }));
    const training = resolveTrainingConfig({ target: 'label' }, columns, 1);
    expect(() => prepareData(one, columns, training, 'sparseCategoricalCrossentropy')).toThrow(
      'training.target "label" has a single class (a)',
    );
  });
});

describe('resolveTrainingConfig', () => {
  it('applies the defaults and names the field at fault', () => {
    expect(resolveTrainingConfig({ target: 'label' }, columns, 42)).toMatchObject({
      features: ['size', 'colour', 'ok'],
      epochs: 10,
      batchSize: 32,
      validationSplit: 0.2,
      seed: 42,
      missing: 'drop',
      normalize: 'standard',
      checkpoint: { every: 1, keep: 3, monitor: 'val_loss', mode: 'min' },
    });
    expect(() => resolveTrainingConfig({ target: 'label', features: ['size', 'label'] }, columns, 1)).toThrow(
      'training.features[1]: "label" is the target',
    );
    expect(() => resolveTrainingConfig({ target: 'label', normalize: 'zscore' }, columns, 1)).toThrow(
      'training.normalize must be one of standard, minmax, none, got "zscore"',
    );
    expect(() => resolveTrainingConfig({ target: 'label', lrSchedule: { type: 'cyclic' } }, columns, 1)).toThrow(
      'training.lrSchedule.type must be one of exponential, step, linear, cosine',
    );
  });
});
