import { describe, expect, it } from 'vitest';

import {
  buildVocabulary,
  encodeText,
  OOV_ID,
  PAD_ID,
  type TextEncoding,
  tokenize,
  vocabularyIds,
} from './tokenizer.js';

describe('tokenize', () => {
  it('splits words by Unicode segmentation, dropping spaces and punctuation, keeping numbers and apostrophes', () => {
    expect(tokenize("Hello, World! Don't panic: 42 times.", 'word', true)).toEqual([
      'hello',
      'world',
      "don't",
      'panic',
      '42',
      'times',
    ]);
    expect(tokenize('Hello World', 'word', false)).toEqual(['Hello', 'World']);
  });

  it('handles scripts beyond ASCII: accents (NFC), Cyrillic, Greek, and Japanese without spaces', () => {
    // "é" as e + combining acute is the same token as the precomposed "é".
    expect(tokenize('Cafe\u0301 café', 'word', true)).toEqual(['café', 'café']);
    expect(tokenize('Привет, мир! Γειά σου', 'word', true)).toEqual(['привет', 'мир', 'γειά', 'σου']);
    const japanese = tokenize('私は猫が好きです', 'word', true);
    expect(japanese.length).toBeGreaterThan(1);
    expect(japanese.join('')).toBe('私は猫が好きです');
  });

  it('keeps emoji as tokens: one per grapheme, skin tones, ZWJ families and flags whole', () => {
    expect(tokenize('great 👍🏽 news 👨‍👩‍👧 🇫🇷!', 'word', true)).toEqual(['great', '👍🏽', 'news', '👨‍👩‍👧', '🇫🇷']);
    expect(tokenize('a👍🏽é', 'char', true)).toEqual(['a', '👍🏽', 'é']);
    expect(tokenize('e\u0301!', 'char', false)).toEqual(['é', '!']);
  });

  it('gives no tokens for empty or blank text', () => {
    expect(tokenize('', 'word', true)).toEqual([]);
    expect(tokenize('   \n\t ', 'word', true)).toEqual([]);
    expect(tokenize('', 'char', true)).toEqual([]);
  });
});

describe('vocabulary and encoding', () => {
  const texts = ['the cat sat', 'the dog sat', 'the cat ran'];

  it('orders tokens by frequency, ties by first appearance, and caps at maxTokens including padding and OOV', () => {
    expect(buildVocabulary(texts, 'word', true, 100)).toEqual(['the', 'cat', 'sat', 'dog', 'ran']);
    expect(buildVocabulary(texts, 'word', true, 4)).toEqual(['the', 'cat']);
  });

  it('maps unknown tokens to 1, pads with 0 after the end, and truncates to sequenceLength', () => {
    const vocabulary = buildVocabulary(texts, 'word', true, 100);
    const encoding: TextEncoding = { tokenize: 'word', sequenceLength: 5, lowercase: true, vocabulary };
    const ids = vocabularyIds(vocabulary);
    const out = new Float32Array(15).fill(-1);
    encodeText('The CAT flew', encoding, ids, out, 0);
    encodeText('', encoding, ids, out, 5);
    encodeText('the cat sat the dog ran away', encoding, ids, out, 10);
    expect(Array.from(out)).toEqual([2, 3, OOV_ID, PAD_ID, PAD_ID, 0, 0, 0, 0, 0, 2, 3, 4, 2, 5]);
  });
});
