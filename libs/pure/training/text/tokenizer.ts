/** How `training.text` splits a string: into characters (grapheme clusters) or words. */
export type TokenizeMode = 'char' | 'word';

export interface TextEncoding {
  tokenize: TokenizeMode;
  sequenceLength: number;
  lowercase: boolean;
  /** Token of id i + 2 (0 is padding, 1 is out of vocabulary), most frequent first. */
  vocabulary: string[];
}

export const PAD_ID = 0;
export const OOV_ID = 1;

const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });
const words = new Intl.Segmenter('und', { granularity: 'word' });
/**
 * Emoji (with their modifiers and joiners, one grapheme) count as words though the word segmenter calls them
 * punctuation.
 */
const PICTOGRAPHIC = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;

/**
 * Splits text into tokens. `char`: user-perceived characters (an emoji with skin tone, a letter with combining
 * accents, a flag: one token each). `word`: Unicode word segmentation (Intl.Segmenter, UAX #29), so scripts without
 * spaces (Thai, Japanese) split sensibly; punctuation and spaces are dropped, emoji kept as tokens.
 */
export function tokenize(text: string, mode: TokenizeMode, lowercase: boolean): string[] {
  const normalized = (lowercase ? text.toLowerCase() : text).normalize('NFC');
  const tokens: string[] = [];
  if (mode === 'char') {
    for (const { segment } of graphemes.segment(normalized)) tokens.push(segment);
    return tokens;
  }
  for (const { segment, isWordLike } of words.segment(normalized)) {
    if (isWordLike || PICTOGRAPHIC.test(segment)) tokens.push(segment);
  }
  return tokens;
}

/**
 * The vocabulary of the training texts: at most `maxTokens` ids in all (padding and OOV included), the most
 * frequent tokens first, ties broken by first appearance so the same texts always give the same ids.
 */
export function buildVocabulary(
  texts: Iterable<string>,
  mode: TokenizeMode,
  lowercase: boolean,
  maxTokens: number,
): string[] {
  const counts = new Map<string, number>();
  for (const text of texts)
    for (const token of tokenize(text, mode, lowercase)) counts.set(token, (counts.get(token) ?? 0) + 1);
  // Map iteration order is first appearance; a stable sort keeps it among equal counts.
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Math.max(0, maxTokens - 2))
    .map(([token]) => token);
}

/** Token ids of one text at `offset` in `out`: truncated to sequenceLength, padded with 0 after the end. */
export function encodeText(
  text: string,
  encoding: TextEncoding,
  ids: Map<string, number>,
  out: Float32Array | Int32Array,
  offset: number,
): void {
  const tokens = tokenize(text, encoding.tokenize, encoding.lowercase);
  const length = Math.min(tokens.length, encoding.sequenceLength);
  for (let i = 0; i < length; i++) out[offset + i] = ids.get(tokens[i]) ?? OOV_ID;
  out.fill(PAD_ID, offset + length, offset + encoding.sequenceLength);
}

/** token → id for a stored vocabulary. */
export function vocabularyIds(vocabulary: string[]): Map<string, number> {
  return new Map(vocabulary.map((token, index) => [token, index + 2]));
}
