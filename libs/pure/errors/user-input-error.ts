/**
 * A fault in what a user sent (a model spec, a search space, a dataset file, a row to predict), found by the pure
 * libraries. Its message names the field, row or column at fault and is safe to show as it is: the API answers every
 * one as BAD_USER_INPUT (HTTP 400) through one table (apps/api/src/platform/client-errors.ts), so a service never
 * catches one only to translate it.
 */
export class UserInputError extends Error {
  override name = 'UserInputError';
}
