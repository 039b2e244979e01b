export * from './bullmq-job-queue.js';
export * from './job-queue.port.js';
export * from './pgboss-job-queue.js';
export * from './queue.module.js';
export * from './queue-driver.js';
