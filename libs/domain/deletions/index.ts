export * from './deletions.repository.js';
export * from './deletions.service.js';
