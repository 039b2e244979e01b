import { IsOptional, ValidateIf } from 'class-validator';

import { NoControlCharacters, OneOf, SentOnceAsText } from '#libs/core/validation';
import { DATASET_FORMATS, type DatasetFormat } from '#libs/pure/data';

/** The text fields of `POST /v1/datasets`, beside the multipart "file" part. */
export class UploadDatasetFields {
  /** A label; the file's own name when absent or blank. */
  @IsOptional() @SentOnceAsText() @NoControlCharacters() name?: string;
  /** Guessed from the file name when absent or empty. */
  @IsOptional()
  @SentOnceAsText()
  @NoControlCharacters()
  @ValidateIf((fields: UploadDatasetFields) => fields.format !== '')
  @OneOf(DATASET_FORMATS)
  format?: DatasetFormat | '';
}
