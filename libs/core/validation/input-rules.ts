import { ValidateBy, type ValidationArguments } from 'class-validator';

/**
 * The rules input DTOs declare (class-validator), each with the message a client reads: it starts with the property
 * name, and the validation pipe (apps/api/src/platform/input-validation.pipe.ts) puts the path of a nested input in
 * front. A content rule passes a value of another type, so only the type rule (GraphQL's own, or SentOnceAsText)
 * speaks about a value of the wrong type.
 *
 * JSON inputs (a model spec, a search space, a training config) are not checked here: their validators in the pure
 * libraries know them deeply and name the path inside them.
 */

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function rule(
  name: string,
  validate: (value: unknown) => boolean,
  message: (args: ValidationArguments) => string,
): PropertyDecorator {
  return ValidateBy({ name, validator: { validate, defaultMessage: message } });
}

/** Text with something in it once trimmed (a name, a label). */
export function NotBlank(): PropertyDecorator {
  return rule(
    'notBlank',
    (value) => typeof value === 'string' && value.trim() !== '',
    ({ property }) => `${property} must not be empty`,
  );
}

/** At most `max` characters once trimmed (names are stored trimmed). */
export function MaxTrimmedLength(max: number): PropertyDecorator {
  return rule(
    'maxTrimmedLength',
    (value) => typeof value !== 'string' || value.trim().length <= max,
    ({ property }) => `${property} must be at most ${max} characters`,
  );
}

/** PostgreSQL text cannot hold NUL, and no other control character belongs in a name. */
export function NoControlCharacters(): PropertyDecorator {
  return rule(
    'noControlCharacters',
    (value) => typeof value !== 'string' || !/\p{Cc}/u.test(value),
    ({ property }) => `${property}: must not contain control characters (such as NUL)`,
  );
}

/** One of a fixed list of strings. */
export function OneOf(values: readonly string[]): PropertyDecorator {
  return rule(
    'oneOf',
    (value) => typeof value !== 'string' || values.includes(value),
    ({ property, value }) => `${property} must be one of ${values.join(', ')}, got ${shown(value)}`,
  );
}

/** An integer from `min` to `max`, both included. */
export function IntBetween(min: number, max: number): PropertyDecorator {
  return rule(
    'intBetween',
    (value) => typeof value !== 'number' || (Number.isInteger(value) && value >= min && value <= max),
    ({ property, value }) => `${property} must be between ${min} and ${max}, got ${shown(value)}`,
  );
}

/** An integer of at least `min`; `why` says what the least stands for. */
export function IntAtLeast(min: number, why = ''): PropertyDecorator {
  return rule(
    'intAtLeast',
    (value) => typeof value !== 'number' || (Number.isInteger(value) && value >= min),
    ({ property, value }) =>
      `${property}: must be an integer of at least ${min}${why ? ` (${why})` : ''}, got ${shown(value)}`,
  );
}

/**
 * A multipart text field sent once: multer makes an array of a field sent twice and an object of `name[]` or
 * `format[a]`, which are refused naming the field.
 */
export function SentOnceAsText(): PropertyDecorator {
  return rule(
    'sentOnceAsText',
    (value) => typeof value === 'string',
    ({ property }) => `${property}: send the "${property}" field once, as plain text`,
  );
}
