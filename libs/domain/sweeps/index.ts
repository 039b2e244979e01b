export * from './dto/sweep.type.js';
export * from './epoch-median.js';
export * from './sweep-history.js';
export * from './sweep-scheduler.service.js';
export * from './sweep-trials.js';
export * from './sweeps.module.js';
export * from './sweeps.repository.js';
export * from './sweeps.service.js';
