export { UserInputError } from './user-input-error.js';
