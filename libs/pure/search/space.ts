/**
 * Search-space types, validation and the discrete helpers shared by the samplers.
 */
import { UserInputError } from '#libs/pure/errors';

export type Strategy = 'GRID' | 'RANDOM' | 'TPE' | 'HYPERBAND' | 'GP';

export type ParamSpec =
  | { type: 'uniform'; min: number; max: number }
  | { type: 'loguniform'; min: number; max: number }
  | { type: 'int'; min: number; max: number; step?: number; log?: boolean }
  | { type: 'choice'; values: (string | number | boolean)[] };

export type SearchSpace = Record<string, ParamSpec>;
export type ParamValue = string | number | boolean;
export type Params = Record<string, ParamValue>;

/** A bad `searchSpace`: the message starts with the path at fault (`searchSpace.lr: ...`). */
export class SearchSpaceError extends UserInputError {
  override name = 'SearchSpaceError';
}

export const STRATEGIES: readonly Strategy[] = ['GRID', 'RANDOM', 'TPE', 'HYPERBAND', 'GP'];

const ALLOWED_KEYS: Record<ParamSpec['type'], readonly string[]> = {
  uniform: ['type', 'min', 'max'],
  loguniform: ['type', 'min', 'max'],
  int: ['type', 'min', 'max', 'step', 'log'],
  choice: ['type', 'values'],
};

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function show(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) return String(x);
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}

/**
 * Validates a raw (JSON) search space for the given strategy and returns a typed copy.
 * Throws {@link SearchSpaceError} whose message names the parameter and the fault, e.g.
 * `searchSpace.lr: min (0.1) must be less than max (0.01)`.
 */
export function parseSearchSpace(raw: unknown, strategy: Strategy): SearchSpace {
  if (!STRATEGIES.includes(strategy)) {
    throw new SearchSpaceError(`searchSpace: unknown strategy ${show(strategy)}`);
  }
  if (!isPlainObject(raw)) {
    throw new SearchSpaceError(`searchSpace: must be an object mapping parameter names to specs (got ${show(raw)})`);
  }
  const names = Object.keys(raw);
  if (names.length === 0) throw new SearchSpaceError('searchSpace: must define at least one parameter');
  const out: SearchSpace = {};
  for (const name of names) {
    if (name.length === 0) throw new SearchSpaceError('searchSpace: parameter names must not be empty');
    if (name === '__proto__') throw new SearchSpaceError('searchSpace.__proto__: reserved name');
    out[name] = parseParam(name, raw[name], strategy);
  }
  return out;
}

function parseParam(name: string, raw: unknown, strategy: Strategy): ParamSpec {
  const where = `searchSpace.${name}`;
  const fail = (msg: string): never => {
    throw new SearchSpaceError(`${where}: ${msg}`);
  };
  if (!isPlainObject(raw)) fail(`must be an object with a "type" (got ${show(raw)})`);
  const spec = raw as Record<string, unknown>;
  const type = spec.type;
  if (type !== 'uniform' && type !== 'loguniform' && type !== 'int' && type !== 'choice') {
    return fail(`unknown type ${show(type)} (expected uniform, loguniform, int or choice)`);
  }
  for (const key of Object.keys(spec)) {
    if (!ALLOWED_KEYS[type].includes(key))
      fail(`unknown key "${key}" for type ${type} (allowed: ${ALLOWED_KEYS[type].join(', ')})`);
  }

  if (type === 'choice') {
    const values = spec.values;
    if (!Array.isArray(values)) return fail(`values must be an array (got ${show(values)})`);
    if (values.length === 0) fail('values must not be empty');
    const seen = new Set<unknown>();
    values.forEach((v, i) => {
      const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      if (!ok) fail(`values[${i}] must be a string, a finite number or a boolean (got ${show(v)})`);
      if (seen.has(v)) fail(`values[${i}] duplicates ${show(v)}`);
      seen.add(v);
    });
    return { type: 'choice', values: [...(values as ParamValue[])] };
  }

  const num = (key: string, required: boolean): number | undefined => {
    const v = spec[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${key} must be a finite number (got ${show(v)})`);
    return v as number;
  };
  const min = num('min', true)!;
  const max = num('max', true)!;
  if (!(min < max)) fail(`min (${min}) must be less than max (${max})`);

  if (type === 'uniform' || type === 'loguniform') {
    if (type === 'loguniform' && min <= 0) fail(`min (${min}) must be greater than 0 for a loguniform parameter`);
    if (strategy === 'GRID')
      fail(`GRID cannot enumerate a continuous ${type} parameter; use choice values or an int with a step`);
    return { type, min, max };
  }

  // int
  if (!Number.isInteger(min)) fail(`min (${min}) must be an integer`);
  if (!Number.isInteger(max)) fail(`max (${max}) must be an integer`);
  const step = num('step', false);
  if (step !== undefined) {
    if (!Number.isInteger(step)) fail(`step (${step}) must be an integer`);
    if (step <= 0) fail(`step (${step}) must be greater than 0`);
  }
  const log = spec.log;
  if (log !== undefined && typeof log !== 'boolean') fail(`log must be a boolean (got ${show(log)})`);
  if (log === true && min <= 0) fail(`min (${min}) must be greater than 0 for a log-scaled int parameter`);
  if (strategy === 'GRID' && step === undefined) fail('GRID needs an explicit step for an int parameter');
  const out: { type: 'int'; min: number; max: number; step?: number; log?: boolean } = { type: 'int', min, max };
  if (step !== undefined) out.step = step;
  if (typeof log === 'boolean') out.log = log;
  return out;
}

/** Step of an int parameter (default 1). */
export function intStep(spec: { step?: number }): number {
  return spec.step ?? 1;
}

/** Number of grid points of an int parameter: min, min+step, ... ≤ max. */
export function intCount(spec: { min: number; max: number; step?: number }): number {
  return Math.floor((spec.max - spec.min) / intStep(spec)) + 1;
}

/** Largest grid point of an int parameter (max rounded down to the step grid). */
export function intHigh(spec: { min: number; max: number; step?: number }): number {
  return spec.min + (intCount(spec) - 1) * intStep(spec);
}

/** Number of distinct values of one parameter (Infinity for continuous ones). */
export function paramCardinality(spec: ParamSpec): number {
  switch (spec.type) {
    case 'choice':
      return spec.values.length;
    case 'int':
      return intCount(spec);
    default:
      return Infinity;
  }
}

/**
 * Number of combinations a GRID sweep enumerates (product of per-parameter cardinalities;
 * int without a step counts every integer; Infinity when a parameter is continuous).
 */
export function gridSize(space: SearchSpace): number {
  let n = 1;
  for (const spec of Object.values(space)) n *= paramCardinality(spec);
  return n;
}

/**
 * The `index`-th combination of the grid, or null past the end. Parameters vary in the
 * given order like nested loops: the first parameter is the outermost (slowest) loop, the
 * last one the innermost (fastest); choice values in the given order, ints min..max by step.
 */
export function gridPoint(space: SearchSpace, index: number): Params | null {
  const size = gridSize(space);
  if (!Number.isFinite(size)) throw new SearchSpaceError('searchSpace: GRID cannot enumerate continuous parameters');
  if (!Number.isInteger(index) || index < 0 || index >= size) return null;
  const names = Object.keys(space);
  const out: Params = {};
  let rest = index;
  for (let i = names.length - 1; i >= 0; i--) {
    const spec = space[names[i]!]!;
    const card = paramCardinality(spec);
    const k = rest % card;
    rest = Math.floor(rest / card);
    out[names[i]!] =
      spec.type === 'choice' ? spec.values[k]! : spec.type === 'int' ? spec.min + k * intStep(spec) : NaN;
  }
  // restore the given parameter order in the object
  const ordered: Params = {};
  for (const name of names) ordered[name] = out[name]!;
  return ordered;
}

/** Whether `value` is a legal value of `spec` (in range, on the int grid, one of the choices). */
export function isValidValue(spec: ParamSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'choice':
      return spec.values.includes(value as ParamValue);
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return false;
      if (value < spec.min || value > spec.max) return false;
      return (value - spec.min) % intStep(spec) === 0;
    }
    default:
      return typeof value === 'number' && Number.isFinite(value) && value >= spec.min && value <= spec.max;
  }
}
