import { GraphQLJSON } from 'graphql-type-json';

/** The contract's `JSON` scalar: any JSON value. */
export const JSONScalar = GraphQLJSON;
