import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';

import {
  MAX_QUERY_TOKENS,
  nulCharacterError,
  parseDocument,
  queryCostError,
  validateDocument,
} from './graphql-limits.js';

const schema = buildSchema(`
  type Point { step: Int!, value: Float! }
  type Series { name: String!, points: [Point!]! }
  type Run { id: ID!, status: String!, metrics(names: [String!], maxPoints: Int): [Series!]!, sweep: Sweep }
  type Sweep { id: ID!, runs: [Run!]!, bestRun: Run }
  type PageInfo { endCursor: String, hasNextPage: Boolean! }
  type RunPage { nodes: [Run!]!, totalCount: Int!, pageInfo: PageInfo! }
  type Query {
    runs: [Run!]!
    run(id: ID!): Run
    runsPage(first: Int): RunPage!
    predict(runId: ID!, rows: [String!]!): [String!]!
  }
`);

const errorsOf = (query: string, variables?: Record<string, unknown>) =>
  validateDocument(schema, parse(query), variables, undefined).map((error) => error.message);

describe('query limits', () => {
  it('prices 22 levels of doubling fragments in bounded time (the old walk took seconds per level)', () => {
    const fragments = Array.from({ length: 22 }, (_, i) =>
      i === 21 ? `fragment F${i} on Run { id }` : `fragment F${i} on Run { ...F${i + 1} ...F${i + 1} }`,
    );
    const started = performance.now();
    const messages = errorsOf(`{ runs { ...F0 } } ${fragments.join(' ')}`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(messages.join(' ')).toMatch(/expands to more than 5000 fields/);
  });

  it('measures depth through fragments once each, and refuses more than 10 levels', () => {
    let deep = 'id';
    for (let i = 0; i < 6; i++) deep = `sweep { bestRun { ${deep} } }`;
    expect(errorsOf(`{ run(id: "x") { ${deep} } }`).join(' ')).toMatch(/14 levels deep; at most 10/);
    expect(errorsOf(`{ run(id: "x") { sweep { bestRun { id } } } }`)).toEqual([]);
  });

  it('prices plain lists at their cap, pages by first, metrics by names and maxPoints, predict by rows', () => {
    const cost = (query: string, variables?: Record<string, unknown>) =>
      queryCostError(schema, parse(query), variables, undefined, 1)?.message.match(/cost (\d+)/)?.[1];
    expect(cost('{ runs { id status } }')).toBe(String(1_000 * 3));
    expect(cost('{ runsPage(first: 10) { nodes { id } } }')).toBe(String(1 + 10 * (1 + 1)));
    expect(cost(`{ run(id: "x") { metrics(names: ["a", "b"], maxPoints: 5) { points { step } } } }`)).toBe(
      String(1 + 2 * (1 + 5 * 2)),
    );
    expect(cost('query($rows: [String!]!) { predict(runId: "x", rows: $rows) }', { rows: ['a', 'b', 'c'] })).toBe('3');
    expect(
      errorsOf(`{ ${Array.from({ length: 40 }, (_, i) => `r${i}: runs { id status }`).join(' ')} }`).join(' '),
    ).toMatch(/too expensive/);
  });

  it('caps aliases, fragments and tokens', () => {
    expect(
      errorsOf(`{ ${Array.from({ length: 51 }, (_, i) => `r${i}: run(id: "x") { id }`).join(' ')} }`).join(' '),
    ).toMatch(/51 aliases/);
    expect(() => parseDocument(`{ runs { ${'id '.repeat(MAX_QUERY_TOKENS)} } }`)).toThrow(/token/i);
  });

  it('finds a NUL character in the query or the variables, naming where', () => {
    expect(nulCharacterError(parse('{ run(id: "a\\u0000") { id } }'), {})?.message).toMatch(
      /a string in the query contains a NUL/,
    );
    expect(
      nulCharacterError(parse('{ runs { id } }'), { input: { training: { checkpoint: { monitor: 'a\u0000' } } } })
        ?.message,
    ).toMatch(/variables.input.training.checkpoint.monitor contains a NUL/);
    expect(nulCharacterError(parse('{ runs { id } }'), { rows: [{ a: 1 }] })).toBeUndefined();
  });
});
