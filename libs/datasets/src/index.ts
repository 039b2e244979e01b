export * from './cells.js';
export * from './dataset-analysis.js';
export * from './dataset-error.js';
export * from './dataset-reader.js';
export * from './analyze-isolated.js';
export * from './images/index.js';
