import 'reflect-metadata';

import type { ArgumentMetadata, Type } from '@nestjs/common';
import { describe, expect, it } from 'vitest';

import { AppError, AppErrorCode } from '#libs/core/errors';
import { UploadDatasetFields } from '#libs/domain/datasets';
import { CreateModelInput } from '#libs/domain/models';
import { MetricsArgs } from '#libs/domain/runs';
import { CreateSweepInput } from '#libs/domain/sweeps';

import { CreateApiKeyArgs } from '../modules/auth/dto/api-key.type.js';
import { InputValidationPipe, validationMessages } from './input-validation.pipe.js';

const pipe = new InputValidationPipe();

function check(metatype: Type, value: unknown): Promise<unknown> {
  const metadata: ArgumentMetadata = { type: 'body', metatype, data: undefined };
  return pipe.transform(value, metadata);
}

async function refusal(metatype: Type, value: unknown): Promise<string> {
  const error = await check(metatype, value).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(AppErrorCode.BadUserInput);
  return (error as AppError).message;
}

const SWEEP = {
  name: 'sweep',
  datasetId: 'd',
  modelId: 'm',
  strategy: 'RANDOM',
  searchSpace: {},
  objective: { metric: 'val_loss', goal: 'MINIMIZE' },
  maxTrials: 5,
  training: {},
};

describe('InputValidationPipe: the rules the input DTOs declare', () => {
  it('refuses names that are blank, too long or hold control characters, naming the field', async () => {
    expect(await refusal(CreateModelInput, { name: '   ', spec: {} })).toBe('name must not be empty');
    expect(await refusal(CreateModelInput, { name: 'x'.repeat(201), spec: {} })).toBe(
      'name must be at most 200 characters',
    );
    expect(await refusal(CreateApiKeyArgs, { name: 'a\u0007b' })).toBe(
      'name: must not contain control characters (such as NUL)',
    );
    expect(await refusal(CreateApiKeyArgs, { name: '' })).toBe('name must not be empty');
  });

  it('refuses sweep scalars out of range with the value sent', async () => {
    expect(await refusal(CreateSweepInput, { ...SWEEP, maxTrials: 0 })).toBe(
      'maxTrials must be between 1 and 10000, got 0',
    );
    expect(await refusal(CreateSweepInput, { ...SWEEP, parallelism: 1001, seed: -1 })).toBe(
      'parallelism must be between 1 and 1000, got 1001; seed must be between 0 and 2147483647, got -1',
    );
    await expect(check(CreateSweepInput, { ...SWEEP, parallelism: null, seed: null })).resolves.toBeDefined();
    expect(await refusal(MetricsArgs, { maxPoints: 1 })).toBe(
      'maxPoints: must be an integer of at least 2 (the first and last point), got 1',
    );
    await expect(check(MetricsArgs, { names: null, maxPoints: null })).resolves.toBeDefined();
  });

  it('refuses multipart fields sent twice, as objects, or out of the list, and accepts an empty format', async () => {
    expect(await refusal(UploadDatasetFields, { name: ['a', 'b'] })).toBe(
      'name: send the "name" field once, as plain text',
    );
    expect(await refusal(UploadDatasetFields, { format: { a: 'csv' } })).toBe(
      'format: send the "format" field once, as plain text',
    );
    expect(await refusal(UploadDatasetFields, { format: 'xlsx' })).toBe(
      'format must be one of csv, jsonl, parquet, images, got "xlsx"',
    );
    await expect(check(UploadDatasetFields, { format: '' })).resolves.toEqual({ format: '' });
    await expect(check(UploadDatasetFields, Object.create(null))).resolves.toBeDefined();
  });

  it(
    'returns the value as sent: JSON keeps keys such as ' + 'constructor and __proto__ for its own validators',
    async () => {
      const spec = JSON.parse('{"__proto__": {"x": 1}, "layers": [{"type": "dense", "constructor": null}]}');
      const input = { name: 'm', spec };
      const checked = (await check(CreateModelInput, input)) as typeof input;
      expect(checked).toBe(input);
      expect(Object.keys(checked.spec)).toEqual(['__proto__', 'layers']);
      expect(Object.keys(checked.spec.layers[0])).toEqual(['type', 'constructor']);
    },
  );

  it('puts the path of a nested input in front of its message', () => {
    const nested = [{ property: 'objective', children: [{ property: 'metric', constraints: { r: 'metric is bad' } }] }];
    expect(validationMessages(nested)).toEqual(['objective.metric is bad']);
  });
});
