import { decodeImage, ImageDecodeError, resizeImage } from '#libs/pure/data';

import { PredictInputError } from '../predict-input-error.js';
import { scalePixels } from './augment.js';

const DATA_URL = /^data:([^,;]*)(;[^,]*)?,/;
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/**
 * One predict row's image, given as base64 (or a data: URL) of a PNG or JPEG: decoded, resized and scaled as the
 * training images were, written at `offset` of `out`. Anything else is refused naming the row's field and why.
 */
export function decodeImageInput(
  cell: unknown,
  feature: { width: number; height: number; channels: 1 | 3 },
  field: string,
  out: Float32Array,
  offset: number,
): void {
  if (typeof cell !== 'string' || cell.length === 0) {
    throw new PredictInputError(
      `${field} must be a base64 string of a PNG or JPEG image (or a data: URL), got ` +
        `${cell === undefined ? 'nothing' : JSON.stringify(cell).slice(0, 40)}`,
    );
  }
  let base64 = cell;
  const dataUrl = DATA_URL.exec(cell);
  if (dataUrl) {
    if (dataUrl[2] !== ';base64')
      throw new PredictInputError(`${field}: a data: URL must be base64-encoded (data:image/png;base64,...)`);
    base64 = cell.slice(dataUrl[0].length);
  }
  if (!BASE64.test(base64))
    throw new PredictInputError(`${field} is not base64: an image is sent as base64 of its PNG or JPEG bytes`);
  const bytes = Buffer.from(base64, 'base64');
  let image;
  try {
    image = decodeImage(bytes);
  } catch (error) {
    if (error instanceof ImageDecodeError)
      throw new PredictInputError(`${field} is not a usable image: ${error.message}`);
    throw error;
  }
  const pixels = resizeImage(image, feature.width, feature.height, feature.channels);
  scalePixels(pixels, out, offset);
}
