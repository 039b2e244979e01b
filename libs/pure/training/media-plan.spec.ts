import { describe, expect, it } from 'vitest';

import { countedColumn } from '#libs/pure/data';

import { planRun, planStoredRun } from './run-plan.js';
import { imageSplitColumn } from './training-config.js';

const IMAGES = [
  countedColumn('image', 'IMAGE', 100),
  countedColumn('label', 'STRING', 10),
  countedColumn('split', 'STRING', 2),
];
const TEXTS = [
  countedColumn('email', 'TEXT', 500),
  countedColumn('length', 'NUMBER', 400),
  countedColumn('label', 'STRING', 2),
];
const CNN = {
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  loss: 'sparseCategoricalCrossentropy',
};

describe('planRun with training.image and training.text', () => {
  it(
    'takes "$name" references in training.image.augment (sweeps over augmentation) and sizes the CNN from the ' +
      'image shape',
    () => {
      const plan = planRun(
        CNN,
        { rot: 12 },
        {
          target: 'label',
          image: { width: 8, height: 6, channels: 1, augment: { rotate: '$rot', flipHorizontal: true } },
        },
        IMAGES,
        1,
      );
      expect(plan.training.image).toEqual({
        width: 8,
        height: 6,
        channels: 1,
        augment: { flipHorizontal: true, rotate: 12, translate: 0, zoom: 0 },
      });
      expect(plan.training.features).toEqual(['image']);
      expect(imageSplitColumn(IMAGES, plan.training)).toBe('split');
      // conv2d 3×3×1×4 + 4, then 4×6×4 = 96 inputs × 10 + 10.
      expect(plan.params).toBe(40 + 970);
      expect(() =>
        planRun(CNN, {}, { target: 'label', image: { width: 8, height: 6, augment: { rotate: '$rot' } } }, IMAGES, 1),
      ).toThrow(/training\.image\.augment\.rotate refers to \$rot/);
      // The worker plans again from the stored (resolved) config, with the run's hyperparameters.
      const stored = JSON.parse(JSON.stringify(plan.training));
      expect(planStoredRun(CNN, { rot: 12 }, stored, IMAGES).training).toEqual(plan.training);
    },
  );

  it('refuses an images dataset without training.image or with training.text, and training.image elsewhere', () => {
    expect(() => planRun(CNN, {}, { target: 'label' }, IMAGES, 1)).toThrow(
      /training\.image is required for an images dataset/,
    );
    expect(() =>
      planRun(CNN, {}, { target: 'label', image: { width: 8, height: 8 }, text: { sequenceLength: 4 } }, IMAGES, 1),
    ).toThrow(/training\.text: this is an images dataset/);
    expect(() => planRun(CNN, {}, { target: 'label', image: { width: 8, height: 8 } }, TEXTS, 1)).toThrow(
      /training\.image needs an images dataset/,
    );
    expect(() => planRun(CNN, {}, { target: 'label', image: { width: 8, height: 8, channels: 2 } }, IMAGES, 1)).toThrow(
      /channels must be 1 \(gray\) or 3 \(RGB\)/,
    );
  });

  it('checks training.text: one STRING or TEXT column, sequenceLength at least 1, a known tokenizer', () => {
    const spec = {
      layers: [
        { type: 'embedding', inputDim: 50, outputDim: 4 },
        { type: 'flatten' },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
      loss: 'sparseCategoricalCrossentropy',
    };
    const text = { tokenize: 'word', sequenceLength: '$len' };
    const plan = planRun(spec, { len: 7 }, { target: 'label', features: ['email'], text }, TEXTS, 1);
    expect(plan.training.text).toEqual({ tokenize: 'word', sequenceLength: 7, maxTokens: 20_000, lowercase: true });
    expect(plan.params).toBe(50 * 4 + 7 * 4 * 2 + 2);
    expect(() => planRun(spec, { len: 0 }, { target: 'label', features: ['email'], text }, TEXTS, 1)).toThrow(
      /training\.text\.sequenceLength must be/,
    );
    expect(() => planRun(spec, { len: 4 }, { target: 'label', features: ['length'], text }, TEXTS, 1)).toThrow(
      /column "length" is NUMBER/,
    );
    expect(() =>
      planRun(spec, { len: 4 }, { target: 'label', features: ['email'], text: { ...text, tokenize: 'bpe' } }, TEXTS, 1),
    ).toThrow(/training\.text\.tokenize/);
  });
});
