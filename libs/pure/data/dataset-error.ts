import { UserInputError } from '#libs/pure/errors';

/** Bad data in a dataset file: the message names the row, column or byte at fault. */
export class DatasetError extends UserInputError {
  override name = 'DatasetError';
}
