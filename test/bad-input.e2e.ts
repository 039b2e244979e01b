import { existsSync, readdirSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { irisCsv } from './support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP, START_RUN } from './support/graphql.js';
import { TestStack } from './support/stack.js';

/** Each bad input gets a 4xx / GraphQL error naming the fault, and the database holds nothing more afterwards. */
describe('bad input', () => {
  const stack = new TestStack();
  let datasetId: string;
  let modelId: string;

  beforeAll(async () => {
    await stack.start({ workers: 0 });
    datasetId = (await stack.upload(irisCsv(), 'iris.csv')).body.id;
    modelId = (await stack.gqlOk(CREATE_MODEL, { input: { name: 'mlp', spec: IRIS_MLP } })).createModel.id;
  });
  afterAll(() => stack.stop());

  const CREATE_SWEEP_ID = `mutation($input: CreateSweepInput!) { createSweep(input: $input) { id } }`;
  const sweepInput = (overrides: Record<string, unknown>) => ({
    name: 'sweep',
    datasetId,
    modelId,
    strategy: 'RANDOM',
    searchSpace: { hidden: { type: 'int', min: 2, max: 8 }, lr: { type: 'uniform', min: 0.001, max: 0.1 } },
    objective: { metric: 'val_loss', goal: 'MINIMIZE' },
    maxTrials: 2,
    training: { target: 'Species', epochs: 1 },
    ...overrides,
  });

  const uploads: [string, string | Buffer, string, RegExp][] = [
    ['an empty file', '', 'empty.csv', /file is empty/],
    ['a header only', 'a,b,c\n', 'header.csv', /header but no data rows/],
    ['ragged rows', 'a,b,c\n1,2,3\n4,5\n', 'ragged.csv', /line 3 has 2 fields but the header has 3/],
    [
      'a binary file',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]),
      'image.csv',
      /not text: it holds a NUL byte/,
    ],
    [
      'invalid UTF-8',
      Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0xff, 0xfe, 0x2c, 0x31, 0x0a]),
      'latin.csv',
      /not valid UTF-8/,
    ],
    ['an unclosed quote', 'a,b\n"1,2\n', 'quote.csv', /quoted field.*never closed/],
    ['a duplicate header', 'a,a\n1,2\n', 'dup.csv', /repeats the name "a"/],
    ['a JSON Lines row that is not an object', '{"a":1}\n[1,2]\n', 'rows.jsonl', /line 2 must be a JSON object/],
    ['nested JSON Lines values', '{"a":{"b":1}}\n', 'nested.jsonl', /line 1, key "a": nested objects/],
    ['an unknown format', 'a,b\n1,2\n', 'data.bin', /cannot tell the format/],
    ['mixed delimiters', 'a;b;c\n1,2,3\n', 'mixed.csv', /line 2 has 1 fields but the header has 3/],
    ['a 10 MB single field', `a,b\n1,"${'x'.repeat(10 * 1024 * 1024)}"\n`, 'huge.csv', /longer than 1000000 bytes/],
    [
      '100,000 columns',
      `${Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',')}\n${'1,'.repeat(99_999)}1\n`,
      'wide.csv',
      /100000 columns; at most 10000/,
    ],
    [
      'Infinity in a numeric column',
      'x,y\n1,2\nInfinity,3\n',
      'inf.csv',
      /line 3, column "x": Infinity is not a finite number/,
    ],
    ['a number too large for a double', 'x,y\n1,2\n1e400,3\n', 'big.csv', /line 3, column "x": 1e400 is too large/],
    ['a JSON Lines line that is not JSON', '{"a":1}\n{"a":\n', 'broken.jsonl', /line 2 is not valid JSON/],
    [
      'a key first seen later with a nested value',
      '{"a":1}\n{"a":2,"b":[1]}\n',
      'late.jsonl',
      /line 2, key "b": nested objects/,
    ],
  ];

  for (const [what, content, fileName, message] of uploads) {
    it(`refuses ${what} with a 400 naming the fault`, async () => {
      const before = await stack.counts();
      const { status, body } = await stack.upload(content, fileName);
      expect(status).toBe(400);
      expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(body.message).toMatch(message);
      expect(await stack.counts()).toEqual(before);
    });
  }

  it('refuses an upload without a file part', async () => {
    const form = new FormData();
    form.append('name', 'nothing');
    const response = await fetch(`${stack.url}/v1/datasets`, { method: 'POST', body: form });
    expect(response.status).toBe(400);
    expect((await response.json()).message).toMatch(/"file" part/);
  });

  it('refuses an unknown format value', async () => {
    const { status, body } = await stack.upload('a,b\n1,2\n', 'x.csv', { format: 'xlsx' });
    expect(status).toBe(400);
    expect(body.message).toMatch(/format must be one of csv, jsonl(, \w+)*, got "xlsx"/);
    expect(body.message).toContain('images');
    expect(body.message).toContain('parquet');
  });

  const specs: [string, unknown, RegExp][] = [
    [
      'an unknown layer type',
      { ...IRIS_MLP, layers: [{ type: 'quantumDense', units: 3 }] },
      /spec\.layers\[0\]\.type: unknown layer type "quantumDense"/,
    ],
    [
      'negative units',
      { ...IRIS_MLP, layers: [{ type: 'dense', units: -4 }] },
      /spec\.layers\[0\] \(dense\)\.units must be at least 1, got -4/,
    ],
    [
      'an unknown layer key',
      { ...IRIS_MLP, layers: [{ type: 'dense', units: 3, unitz: 4 }] },
      /spec\.layers\[0\] \(dense\)\.unitz is not a key of a dense layer/,
    ],
    [
      'a dropout rate of 1.5',
      {
        ...IRIS_MLP,
        layers: [
          { type: 'dropout', rate: 1.5 },
          { type: 'dense', units: 3 },
        ],
      },
      /spec\.layers\[0\] \(dropout\)\.rate must be at most 0.99/,
    ],
    ['an unknown loss', { ...IRIS_MLP, loss: 'hinge' }, /spec\.loss must be one of/],
    ['an unknown optimizer', { ...IRIS_MLP, optimizer: { type: 'lion' } }, /spec\.optimizer\.type must be one of/],
    ['an unknown metric', { ...IRIS_MLP, metrics: ['auc'] }, /spec\.metrics\[0\] must be one of/],
    ['no layers', { ...IRIS_MLP, layers: [] }, /spec\.layers must be a non-empty list/],
    ['a spec that is a string', 'dense', /spec must be an object/],
    [
      'an unknown activation',
      { ...IRIS_MLP, layers: [{ type: 'dense', units: 3, activation: 'relu7' }] },
      /activation must be one of/,
    ],
    ...['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'].map((type): [string, unknown, RegExp] => [
      `the layer type "${type}" (a built-in name)`,
      { ...IRIS_MLP, layers: [{ type, units: 3 }] },
      /unknown layer type/,
    ]),
    [
      'the layer key "constructor"',
      { ...IRIS_MLP, layers: [{ type: 'dense', units: 3, constructor: 1 }] },
      /constructor is not a key of a dense layer/,
    ],
    [
      'the layer key "toString"',
      { ...IRIS_MLP, layers: [{ type: 'dense', units: 3, toString: 1 }] },
      /toString is not a key of a dense layer/,
    ],
  ];
  for (const [what, spec, message] of specs) {
    it(`refuses a model spec with ${what} (BAD_USER_INPUT)`, async () => {
      const before = await stack.counts();
      const result = await stack.gql(CREATE_MODEL, { input: { name: 'bad', spec } });
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0].message).toMatch(message);
      expect(await stack.counts()).toEqual(before);
    });
  }

  const runs: [string, () => Record<string, unknown>, string, RegExp][] = [
    [
      'an unknown target column',
      () => ({ datasetId, modelId, hyperparameters: { hidden: 8, lr: 0.01 }, training: { target: 'Colour' } }),
      'BAD_USER_INPUT',
      /training\.target: unknown column "Colour"/,
    ],
    [
      'a missing hyperparameter',
      () => ({ datasetId, modelId, hyperparameters: { hidden: 8 }, training: { target: 'Species' } }),
      'BAD_USER_INPUT',
      /spec\.optimizer\.learningRate refers to \$lr, but no hyperparameter "lr" was given/,
    ],
    [
      'a hyperparameter the spec does not use',
      () => ({
        datasetId,
        modelId,
        hyperparameters: { hidden: 8, lr: 0.1, depth: 3 },
        training: { target: 'Species' },
      }),
      'BAD_USER_INPUT',
      /hyperparameters\.depth is not used/,
    ],
    [
      'a value that breaks the spec',
      () => ({ datasetId, modelId, hyperparameters: { hidden: -1, lr: 0.1 }, training: { target: 'Species' } }),
      'BAD_USER_INPUT',
      /spec\.layers\[0\] \(dense\)\.units must be at least 1, got -1/,
    ],
    [
      'negative epochs',
      () => ({
        datasetId,
        modelId,
        hyperparameters: { hidden: 8, lr: 0.1 },
        training: { target: 'Species', epochs: -3 },
      }),
      'BAD_USER_INPUT',
      /training\.epochs must be at least 1, got -3/,
    ],
    [
      'batch size 0',
      () => ({
        datasetId,
        modelId,
        hyperparameters: { hidden: 8, lr: 0.1 },
        training: { target: 'Species', batchSize: 0 },
      }),
      'BAD_USER_INPUT',
      /training\.batchSize must be at least 1, got 0/,
    ],
    [
      'an unknown training key',
      () => ({
        datasetId,
        modelId,
        hyperparameters: { hidden: 8, lr: 0.1 },
        training: { target: 'Species', epoch: 3 },
      }),
      'BAD_USER_INPUT',
      /training\.epoch is not a known key/,
    ],
    [
      'a regression loss on a text target',
      () => ({
        datasetId,
        modelId,
        hyperparameters: { hidden: 8, lr: 0.1 },
        training: { target: 'Species', features: ['Petal Length (cm)'] },
        spec: true,
      }),
      'BAD_USER_INPUT',
      /holds text labels/,
    ],
    [
      'an unknown dataset',
      () => ({
        datasetId: '00000000-0000-4000-8000-000000000000',
        modelId,
        hyperparameters: { hidden: 8, lr: 0.1 },
        training: { target: 'Species' },
      }),
      'NOT_FOUND',
      /dataset "00000000-0000-4000-8000-000000000000" not found/,
    ],
    [
      'an id that is not a UUID',
      () => ({ datasetId: 'iris', modelId, hyperparameters: { hidden: 8, lr: 0.1 }, training: { target: 'Species' } }),
      'NOT_FOUND',
      /dataset "iris" not found/,
    ],
  ];
  for (const [what, input, code, message] of runs) {
    it(`refuses a run with ${what} (${code})`, async () => {
      let runInput = input();
      if (runInput.spec) {
        const regression = (
          await stack.gqlOk(CREATE_MODEL, {
            input: {
              name: 'reg',
              spec: {
                ...IRIS_MLP,
                loss: 'meanSquaredError',
                layers: [
                  { type: 'dense', units: '$hidden' },
                  { type: 'dense', units: 1 },
                ],
                optimizer: { type: 'sgd', learningRate: '$lr' },
              },
            },
          })
        ).createModel;
        runInput = { ...runInput, modelId: regression.id };
        delete runInput.spec;
      }
      const before = await stack.counts();
      const result = await stack.gql(START_RUN, { input: runInput });
      expect(result.errors?.[0].extensions?.code).toBe(code);
      expect(result.errors?.[0].message).toMatch(message);
      expect(await stack.counts()).toEqual(before);
    });
  }

  it('refuses a constant target and a target with 10,000 classes', async () => {
    const constant = (await stack.upload('x,y\n1,a\n2,a\n3,a\n', 'constant.csv')).body.id;
    const many = (
      await stack.upload(`x,y\n${Array.from({ length: 10_000 }, (_, i) => `${i},class${i}`).join('\n')}\n`, 'many.csv')
    ).body.id;
    const before = await stack.counts();
    for (const [id, message] of [
      [constant, /training\.target "y" is constant/],
      [many, /training\.target "y" has 10000 classes; at most 1000/],
    ] as const) {
      const result = await stack.gql(START_RUN, {
        input: { datasetId: id, modelId, hyperparameters: { hidden: 4, lr: 0.1 }, training: { target: 'y' } },
      });
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0].message).toMatch(message);
    }
    expect(await stack.counts()).toEqual(before);
  });

  it.each([
    [
      'a string where a number is expected',
      { training: { target: 'Species', epochs: 'ten' } },
      /training\.epochs must be a whole number, got "ten"/,
    ],
    [
      'a fractional batch size',
      { training: { target: 'Species', batchSize: 2.5 } },
      /training\.batchSize must be a whole number, got 2\.5/,
    ],
    [
      'a validation split of 1',
      { training: { target: 'Species', validationSplit: 1 } },
      /training\.validationSplit must be at most 0\.9/,
    ],
    ['hyperparameters that are a list', { hyperparameters: [1, 2] }, /hyperparameters must be an object/],
    [
      'an unknown missing-value rule',
      { training: { target: 'Species', missing: 'zero' } },
      /training\.missing must be one of drop, mean/,
    ],
    [
      'a hyperparameter named __proto__',
      { hyperparameters: JSON.parse('{"__proto__": 8, "hidden": 4, "lr": 0.1}') },
      /__proto__/,
    ],
    [
      'a NUL character in the monitored metric',
      { training: { target: 'Species', checkpoint: { monitor: 'val\u0000loss' } } },
      /NUL character/,
    ],
    [
      'features naming the same column twice',
      { training: { target: 'Species', features: ['Petal Length (cm)', 'Petal Length (cm)'] } },
      /training\.features lists a column twice/,
    ],
  ])('refuses %s in startRun', async (_what, override, message) => {
    const before = await stack.counts();
    const result = await stack.gql(START_RUN, {
      input: {
        datasetId,
        modelId,
        hyperparameters: { hidden: 4, lr: 0.1 },
        training: { target: 'Species' },
        ...override,
      },
    });
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(message);
    expect(await stack.counts()).toEqual(before);
  });

  it.each([
    ['an unknown enum value', '{ runs(status: DONE) { id } }', /DONE/],
    ['an unknown field', '{ runs { id nope } }', /Cannot query field "nope"/],
    [
      'an unknown input field',
      'mutation { startRun(input: {datasetId: "x", modelId: "y", training: {}, colour: "red"}) { id } }',
      /colour/,
    ],
    [
      'a wrong argument type',
      'mutation { createSweep(input: {name: "s", datasetId: "x", modelId: "y", strategy: RANDOM, searchSpace: ' +
        '{}, objective: {metric: "loss", goal: MINIMIZE}, maxTrials: "five", training: {}}) { id } }',
      /maxTrials|Int/,
    ],
    ['a list where an id is expected', '{ run(id: [1, 2]) { id } }', /ID/],
    ['a query that does not parse', '{ runs { id ', /Syntax Error/],
    [
      'a NUL character in a metric name',
      '{ runs(status: QUEUED) { metrics(names: ["\\u0000"]) { name } } }',
      /NUL character/,
    ],
    [
      'a NUL character in an API key name',
      'mutation { createApiKey(name: "a\\u0000b") { id } }',
      /NUL character|control characters/,
    ],
    [
      '51 aliases',
      `{ ${Array.from({ length: 51 }, (_, i) => `a${i}: datasets { id }`).join(' ')} }`,
      /51 aliases; at most 50/,
    ],
    ['a document of more than 20,000 tokens', `{ datasets { ${'id '.repeat(20_001)} } }`, /token/i],
    [
      'deeply nested JSON in a spec',
      `mutation { createModel(input: {name: "deep", spec: ${'{a: '.repeat(30)}1${'}'.repeat(30)}}) { id } }`,
      /nested too deeply|not a known key|levels/,
    ],
  ])('answers %s with BAD_USER_INPUT', async (_what, query, message) => {
    const before = await stack.counts();
    const result = await stack.gql(query);
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(message);
    expect(await stack.counts()).toEqual(before);
  });

  const KEY = 'mutation($name: String!) { createApiKey(name: $name) { id } }';
  it.each([
    ['a blank model name', CREATE_MODEL, () => ({ input: { name: '  ', spec: IRIS_MLP } }), /^name must not be empty$/],
    [
      'a model name of 201 characters',
      CREATE_MODEL,
      () => ({ input: { name: 'm'.repeat(201), spec: IRIS_MLP } }),
      /^name must be at most 200 characters$/,
    ],
    ['a bell character in an API key name', KEY, () => ({ name: 'a\u0007b' }), /^name: must not contain control/],
    ['maxTrials 0', CREATE_SWEEP_ID, () => ({ input: sweepInput({ maxTrials: 0 }) }), /^maxTrials must be between 1/],
    [
      'parallelism 0 and a negative seed',
      CREATE_SWEEP_ID,
      () => ({ input: sweepInput({ parallelism: 0, seed: -1 }) }),
      /^parallelism must be between 1 and 1000, got 0; seed must be between 0 and 2147483647, got -1$/,
    ],
    ['a blank sweep name', CREATE_SWEEP_ID, () => ({ input: sweepInput({ name: ' ' }) }), /^name must not be empty$/],
  ])('refuses %s by the input rules (BAD_USER_INPUT), writing nothing', async (_what, query, variables, message) => {
    const before = await stack.counts();
    const result = await stack.gql(query, variables());
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(message);
    expect(await stack.counts()).toEqual(before);
  });

  it.each([
    [
      'the name field twice',
      [
        ['name', 'a'],
        ['name', 'b'],
      ],
      /name: send the "name" field once/,
    ],
    ['name[]', [['name[]', 'a']], /name: send the "name" field once/],
    ['format[a]', [['format[a]', 'csv']], /format: send the "format" field once/],
    ['a NUL character in the name', [['name', 'a\u0000b']], /name: must not contain control characters/],
  ])('refuses an upload with %s (400) and keeps no file', async (_what, fields, message) => {
    const before = await stack.counts();
    const form = new FormData();
    for (const [key, value] of fields) form.append(key, value);
    form.append('file', new Blob(['a,b\n1,2\n']), 'x.csv');
    const response = await fetch(`${stack.url}/v1/datasets`, { method: 'POST', body: form });
    expect(response.status).toBe(400);
    expect((await response.json()).message).toMatch(message);
    expect(readdirSync(`${stack.dataDir}/uploads`)).toEqual([]);
    expect(await stack.counts()).toEqual(before);
  });

  it('answers a body that is not JSON with a 400', async () => {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    expect((await response.json()).message).toMatch(/not valid JSON/);
  });

  it('answers unknown ids with 404 over REST and NOT_FOUND over GraphQL', async () => {
    for (const path of [
      '/v1/datasets/00000000-0000-4000-8000-000000000000/download',
      '/v1/datasets/../../etc/passwd/download',
      '/v1/checkpoints/nope/model.json',
      '/v1/checkpoints/00000000-0000-4000-8000-000000000000/weights.bin',
    ]) {
      const response = await fetch(`${stack.url}${path}`);
      expect(response.status, path).toBe(404);
      expect((await response.json()).statusCode).toBe(404);
    }
    const result = await stack.gql(`mutation { cancelRun(id: "not-a-uuid") { id } }`);
    expect(result.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const deleted = await stack.gql(`mutation { deleteDataset(id: "00000000-0000-4000-8000-000000000000") }`);
    expect(deleted.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('keeps an uploaded file name out of every path', async () => {
    const { status, body } = await stack.upload('a,b\n1,x\n2,y\n', '../../../../tmp/evil.csv');
    expect(status).toBe(201);
    // The multipart parser keeps only the base name, and even that is only a label.
    expect(body.name).toBe('evil.csv');
    expect(readdirSync(`${stack.dataDir}/datasets`)).toEqual(expect.not.arrayContaining(['evil.csv']));
    expect(readdirSync(`${stack.dataDir}/datasets`)).toContain(body.id);
    expect(existsSync('/tmp/evil.csv')).toBe(false);
  });
});
