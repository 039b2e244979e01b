import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStack } from './support/stack.js';

/**
 * The public contract lives in shared/ beside the checkout (CONTRACT_DIR overrides); without it this test fails, never
 * skips.
 */
const CONTRACT = resolve(
  process.env.CONTRACT_DIR ?? resolve(import.meta.dirname, '..', '..', 'shared', 'contract'),
  'api.graphql',
);
if (!existsSync(CONTRACT))
  throw new Error(`the contract is not at ${CONTRACT}: check the repository out beside shared/ or set CONTRACT_DIR`);

function kindOf(type: GraphQLNamedType): string {
  if (isObjectType(type)) return 'object';
  if (isInputObjectType(type)) return 'input';
  if (isEnumType(type)) return 'enum';
  if (isScalarType(type)) return 'scalar';
  if (isInterfaceType(type)) return 'interface';
  if (isUnionType(type)) return 'union';
  return 'unknown';
}

/**
 * Every difference between the contract and the served schema: missing types, fields, arguments, enum values, or a
 * changed type.
 */
export function contractDifferences(contract: GraphQLSchema, served: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const type of Object.values(contract.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const servedType = served.getType(type.name);
    if (!servedType) {
      problems.push(`type ${type.name} is not served`);
      continue;
    }
    if (kindOf(type) !== kindOf(servedType))
      problems.push(`${type.name} is a ${kindOf(servedType)}, the contract says ${kindOf(type)}`);
    if (isEnumType(type) && isEnumType(servedType)) {
      const values = new Set(servedType.getValues().map((value) => value.name));
      for (const value of type.getValues())
        if (!values.has(value.name)) problems.push(`enum ${type.name} lacks ${value.name}`);
    }
    if (
      (isObjectType(type) || isInputObjectType(type)) &&
      (isObjectType(servedType) || isInputObjectType(servedType))
    ) {
      const servedFields = servedType.getFields() as Record<string, GraphQLField<unknown, unknown> | GraphQLInputField>;
      for (const [name, field] of Object.entries(
        type.getFields() as Record<string, GraphQLField<unknown, unknown> | GraphQLInputField>,
      )) {
        const servedField = servedFields[name];
        if (!servedField) {
          problems.push(`${type.name}.${name} is not served`);
          continue;
        }
        if (String(field.type) !== String(servedField.type))
          problems.push(`${type.name}.${name} is ${servedField.type}, the contract says ${field.type}`);
        if ('args' in field && 'args' in servedField) {
          for (const arg of field.args) {
            const servedArg = servedField.args.find((candidate) => candidate.name === arg.name);
            if (!servedArg) problems.push(`${type.name}.${name}(${arg.name}) is not served`);
            else if (String(arg.type) !== String(servedArg.type))
              problems.push(`${type.name}.${name}(${arg.name}) is ${servedArg.type}, the contract says ${arg.type}`);
          }
          for (const servedArg of servedField.args) {
            if (!field.args.some((arg) => arg.name === servedArg.name) && String(servedArg.type).endsWith('!')) {
              problems.push(
                `${type.name}.${name}(${servedArg.name}) is a required argument the contract does not have`,
              );
            }
          }
        }
      }
      if (isInputObjectType(servedType)) {
        for (const [name, field] of Object.entries(servedType.getFields())) {
          if (!(name in type.getFields()) && String(field.type).endsWith('!'))
            problems.push(`input ${type.name}.${name} is required but not in the contract`);
        }
      }
    }
  }
  return problems;
}

/**
 * The contract's version-2 items that are not built yet, each with the issue that builds it. The served schema
 * must differ from the contract by exactly these: an item that gets built fails the test until it is taken off
 * this list, and nothing else may go missing. The list can only shrink; an issue is resolved once none of its
 * items is left here.
 */
const PENDING_SCHEMA_ITEMS: [item: string, issue: string][] = [];

/** GET routes of the contract (README.md) that answer 200 without an id; the dashboard's pages included. */
const CONTRACT_ROUTES = ['/health', '/', '/ui/datasets', '/ui/runs', '/ui/sweeps', '/v1/layers.js'];

/** Contract routes not built yet, with the issue that builds each; the same rule as PENDING_SCHEMA_ITEMS. */
const PENDING_ROUTES: [route: string, issue: string][] = [];

describe('the served GraphQL schema', () => {
  const stack = new TestStack();
  let served: GraphQLSchema;
  const contract = buildSchema(readFileSync(CONTRACT, 'utf8'));

  beforeAll(async () => {
    await stack.start({ workers: 0 });
    const { data } = await stack.gql(getIntrospectionQuery());
    served = buildClientSchema(data as never);
  });
  afterAll(() => stack.stop());

  it('differs from the contract by exactly the pending "since 2" items, no more and no fewer', () => {
    // Sorted so the comparison names each missing or extra item, whatever order the walk finds them in.
    expect([...contractDifferences(contract, served)].sort()).toEqual(
      PENDING_SCHEMA_ITEMS.map(([item]) => item).sort(),
    );
  });

  it(
    'says which contract version it serves: the newest "since ' + 'N" of the contract, on /health and as apiVersion',
    async () => {
      const contractText = ['api.graphql', 'README.md']
        .map((file) => readFileSync(resolve(CONTRACT, '..', file), 'utf8'))
        .join('\n');
      const newest = Math.max(...[...contractText.matchAll(/since (\d+)/g)].map((match) => Number(match[1])));
      const health = (await (await fetch(`${stack.url}/health`)).json()) as { status: string; contractVersion: number };
      expect(health).toEqual({ status: 'ok', contractVersion: newest });
      expect((await stack.gqlOk<{ apiVersion: number }>('{ apiVersion }')).apiVersion).toBe(newest);
    },
  );

  it('is copied unchanged into docs/contract/, which the README and docs/deploy.md link to', () => {
    for (const file of ['README.md', 'api.graphql']) {
      const copy = readFileSync(resolve(import.meta.dirname, '..', 'docs', 'contract', file), 'utf8');
      expect(copy, `docs/contract/${file} differs from the contract: copy it again`).toBe(
        readFileSync(resolve(CONTRACT, '..', file), 'utf8'),
      );
    }
  });

  it('still lacks each pending REST and dashboard route, and serves every other', async () => {
    const pending = new Set(PENDING_ROUTES.map(([route]) => route));
    for (const route of CONTRACT_ROUTES) {
      const response = await fetch(`${stack.url}${route}`);
      if (pending.has(route)) expect(response.status, `${route} is built: take it off PENDING_ROUTES`).toBe(404);
      else expect(response.status, route).toBe(200);
    }
  });

  it('the comparison itself catches a renamed field and a changed type', () => {
    const altered = buildSchema(
      readFileSync(CONTRACT, 'utf8')
        .replace('epochsCompleted: Int!', 'epochsDone: Int!')
        .replace('maxTrials: Int!\n  parallelism', 'maxTrials: Float!\n  parallelism'),
    );
    expect(contractDifferences(contract, altered)).toEqual(
      expect.arrayContaining([
        'Run.epochsCompleted is not served',
        'Sweep.maxTrials is Float!, the contract says Int!',
      ]),
    );
  });
});
