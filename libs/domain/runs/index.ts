export * from './checkpoints.service.js';
export * from './confusion-matrix.service.js';
export * from './dto/run.type.js';
export * from './predictions.service.js';
export * from './runs.repository.js';
export * from './runs.service.js';
