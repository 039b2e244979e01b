export * from './db.module.js';
export * from './embedded-postgres.js';
export * from './generated/client.js';
export * from './migrate.js';
export * from './prisma.service.js';
export * from './retry.js';
export * from './run-events.repository.js';
