export * from './config.js';
export * from './config.module.js';
export * from './contract-version.js';
export * from './json-logger.js';
