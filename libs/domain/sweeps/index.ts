export * from './sweep-history.js';
export * from './sweep-scheduler.service.js';
export * from './sweeps.module.js';
