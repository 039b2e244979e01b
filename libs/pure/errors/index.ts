export { AppErrorCode, HTTP_STATUS_BY_CODE } from './error-codes.js';
export { UserInputError } from './user-input-error.js';
