export * from './graphql-enums.js';
export * from './json.scalar.js';
