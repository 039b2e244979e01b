import { UserInputError } from '#libs/pure/errors';

/** A predict row the stored preprocessing cannot take; the message names the row and column. */
export class PredictInputError extends UserInputError {
  override name = 'PredictInputError';
}
