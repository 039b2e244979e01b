import { UserInputError } from '#libs/pure/errors';

/** A bad model spec, training config or hyperparameter: the message names the path at fault. */
export class SpecError extends UserInputError {
  override name = 'SpecError';
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * The entry of a lookup table for a key a user chose, or undefined: an own-property check, so `constructor`,
 * `toString` or `__proto__` are unknown keys instead of reaching Object.prototype.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** A name JavaScript objects already carry (`__proto__`, `constructor`, `toString`…): refused where users name it. */
export function isBuiltInName(name: string): boolean {
  return name in Object.prototype;
}

export function checkKeys(object: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new SpecError(`${path}.${key} is not a known key (known: ${allowed.join(', ')})`);
    }
  }
}

export function numberAt(
  value: unknown,
  path: string,
  options: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SpecError(`${path} must be a ${options.integer ? 'whole number' : 'number'}, got ${describe(value)}`);
  }
  if (options.integer && !Number.isInteger(value)) throw new SpecError(`${path} must be a whole number, got ${value}`);
  if (options.min !== undefined && (options.exclusiveMin ? value <= options.min : value < options.min)) {
    throw new SpecError(
      `${path} must be ${options.exclusiveMin ? 'greater than' : 'at least'} ${options.min}, got ${value}`,
    );
  }
  if (options.max !== undefined && value > options.max)
    throw new SpecError(`${path} must be at most ${options.max}, got ${value}`);
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new SpecError(`${path} must be one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}
