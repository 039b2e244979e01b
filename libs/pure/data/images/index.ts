export * from './image-analysis.js';
export * from './image-archive.js';
export * from './image-decoder.js';
