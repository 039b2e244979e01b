import type { ApolloServerPlugin } from '@apollo/server';
import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  type SelectionSetNode,
  specifiedRules,
  validate,
  type ValidationContext,
  type ValidationRule,
  visit,
} from 'graphql';
import { type ComplexityEstimatorArgs, getComplexity } from 'graphql-query-complexity';

import { AppErrorCode } from '#libs/core/errors';

import { graphqlError } from './client-errors.js';

export const MAX_QUERY_DEPTH = 10;
export const MAX_QUERY_COST = 50_000;
/** Lexical tokens per document: far above any query a client writes by hand; rows to predict belong in variables. */
export const MAX_QUERY_TOKENS = 20_000;
/** Aliased fields per document: aliases are how one request asks for the same expensive field many times. */
export const MAX_QUERY_ALIASES = 50;
export const MAX_QUERY_FRAGMENTS = 50;
/** Fields the cost walk visits before giving up: the bound that keeps pricing linear whatever fragments fan out. */
const MAX_PRICED_NODES = 5_000;
/**
 * How many items a plain list is priced at: the most it can return. The top-level lists are capped by the API
 * (the pages of contract 2 are the way to read many), checkpoints are pruned to a few per run, metric series
 * are as many as the names asked for (or the run's metrics), and points per series are capped.
 */
export const PLAIN_LIST_CAP = 1_000; // MAX_LIST_ITEMS's default (the plain lists' cap, from the apiscale branch)
/** Contract 2: a page holds `first` nodes, 50 by default and at most 500. */
const MAX_PAGE_SIZE = 500;
const LIST_SIZE: Record<string, number> = Object.assign(Object.create(null), {
  runs: PLAIN_LIST_CAP,
  datasets: PLAIN_LIST_CAP,
  models: PLAIN_LIST_CAP,
  sweeps: PLAIN_LIST_CAP,
  apiKeys: PLAIN_LIST_CAP,
  nodes: 1, // priced by the page holding them (see fieldCost)
  columns: 100,
  checkpoints: 10,
  // A run's history is priced at typical sizes (a few series of a few hundred epochs): reading one run whole is
  // the normal use; what the price must stop is lists multiplying lists.
  metrics: 10,
  points: 200,
});
const DEFAULT_LIST_SIZE = 20;

function badInput(message: string): GraphQLError {
  return graphqlError(AppErrorCode.BadUserInput, message);
}

/**
 * Prices one field as its own cost times the items it returns: a list's size comes from its arguments where they
 * say it (`first` of a page, `names` of metrics, `maxPoints`, the `rows` to predict), else from the caps above.
 */
function fieldCost({ field, args, childComplexity }: ComplexityEstimatorArgs): number {
  if (isIntrospectionRoot(field.name)) return 0; // priced on its own budget (introspectionCost)
  let items = 1;
  const type = String(field.type);
  if (type.replace(/!$/, '').startsWith('[')) items = LIST_SIZE[field.name] ?? DEFAULT_LIST_SIZE;
  if (Array.isArray(args.names)) items = Math.max(1, args.names.length);
  // maxPoints caps the points of each series below, which were priced at their own cap.
  if (typeof args.maxPoints === 'number') {
    childComplexity = Math.ceil(
      (childComplexity * Math.min(Math.max(args.maxPoints, 1), LIST_SIZE.points)) / LIST_SIZE.points,
    );
  }
  if (Array.isArray(args.rows)) items = Math.max(1, args.rows.length);
  // A page (contract 2: RunPage, DatasetPage…) holds `first` nodes, 50 by default and at most 500.
  if (/Page!?$/.test(type))
    return (
      1 + (typeof args.first === 'number' ? Math.min(Math.max(args.first, 1), MAX_PAGE_SIZE) : 50) * childComplexity
    );
  return items * (1 + childComplexity);
}

function asksForIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (isIntrospectionRoot(node.name.value)) found = true;
    },
  });
  return found;
}

function isIntrospectionRoot(name: string): boolean {
  return name === '__schema' || name === '__type';
}

/** The most items each introspection list can hold in this schema, found once per schema. */
const introspectionSizes = new WeakMap<GraphQLSchema, Record<string, number>>();

function introspectionSizesOf(schema: GraphQLSchema): Record<string, number> {
  let sizes = introspectionSizes.get(schema);
  if (sizes) return sizes;
  const types = Object.values(schema.getTypeMap());
  const most = (counts: number[]) => Math.max(1, ...counts);
  const fieldsOf = (type: GraphQLNamedType) =>
    isObjectType(type) || isInterfaceType(type) ? Object.values(type.getFields()) : [];
  sizes = Object.assign(Object.create(null), {
    types: types.length,
    fields: most(types.map((type) => fieldsOf(type).length)),
    args: most([
      ...types.flatMap((type) => fieldsOf(type).map((field) => field.args.length)),
      ...schema.getDirectives().map((directive) => directive.args.length),
    ]),
    inputFields: most(types.map((type) => (isInputObjectType(type) ? Object.keys(type.getFields()).length : 0))),
    enumValues: most(types.map((type) => (isEnumType(type) ? type.getValues().length : 0))),
    interfaces: most(
      types.map((type) => (isObjectType(type) || isInterfaceType(type) ? type.getInterfaces().length : 0)),
    ),
    possibleTypes: most(types.map((type) => (isAbstractType(type) ? schema.getPossibleTypes(type).length : 0))),
    directives: schema.getDirectives().length,
    locations: 20,
  }) as Record<string, number>;
  introspectionSizes.set(schema, sizes);
  return sizes;
}

/**
 * Introspection, priced by the real sizes of this schema's lists on a budget of its own: the standard introspection
 * query (GraphiQL's, codegen's) fits; nesting `fields { type { fields { type … } } }` to multiply the answer does not.
 */
export const MAX_INTROSPECTION_COST = 400_000;

function introspectionCost(schema: GraphQLSchema): (args: ComplexityEstimatorArgs) => number {
  const sizes = introspectionSizesOf(schema);
  return ({ field, type, childComplexity }) => {
    if (!type.name.startsWith('__') && !isIntrospectionRoot(field.name)) return 1 + childComplexity;
    const items = String(field.type).replace(/!$/, '').startsWith('[') ? (sizes[field.name] ?? 20) : 1;
    return items * (1 + childComplexity);
  };
}

/** The deepest field nesting, each fragment measured once (a fragment spread twice per level is not walked twice). */
function documentDepth(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  memo: Map<string, number>,
  active: Set<string>,
): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      // Introspection's depth is the schema's, not the data's (its size is priced by introspectionCost).
      if (isIntrospectionRoot(selection.name.value)) continue;
      deepest = Math.max(
        deepest,
        1 + (selection.selectionSet ? documentDepth(context, selection.selectionSet, memo, active) : 0),
      );
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, documentDepth(context, selection.selectionSet, memo, active));
    } else {
      const name = selection.name.value;
      if (active.has(name)) continue; // a cycle: reported by graphql's own NoFragmentCycles rule
      let depth = memo.get(name);
      if (depth === undefined) {
        const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(name);
        active.add(name);
        depth = fragment ? documentDepth(context, fragment.selectionSet, memo, active) : 0;
        active.delete(name);
        memo.set(name, depth);
      }
      deepest = Math.max(deepest, depth);
    }
  }
  return deepest;
}

/**
 * Refuses, before anything runs, documents too deep or with too many aliases or fragments. Pricing needs the
 * operation's variables, so it is a separate step (queryCostError), run by the Apollo plugin below over HTTP and by
 * validateDocument over graphql-ws: one path for both transports.
 */
export function queryLimitsRule(maxDepth = MAX_QUERY_DEPTH): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    Document(document) {
      let aliases = 0;
      let fragments = 0;
      const stack: { kind: string; alias?: unknown; selectionSet?: SelectionSetNode }[] = [...document.definitions];
      while (stack.length > 0) {
        const node = stack.pop()!;
        if (node.kind === Kind.FIELD && node.alias) aliases++;
        if (node.kind === Kind.FRAGMENT_DEFINITION) fragments++;
        if (node.selectionSet) stack.push(...node.selectionSet.selections);
      }
      if (aliases > MAX_QUERY_ALIASES)
        context.reportError(badInput(`the query has ${aliases} aliases; at most ${MAX_QUERY_ALIASES} are allowed`));
      if (fragments > MAX_QUERY_FRAGMENTS) {
        context.reportError(
          badInput(`the query has ${fragments} fragments; at most ${MAX_QUERY_FRAGMENTS} are allowed`),
        );
      }
    },
    OperationDefinition(operation) {
      const depth = documentDepth(context, operation.selectionSet, new Map(), new Set());
      if (depth > maxDepth)
        context.reportError(badInput(`the query is ${depth} levels deep; at most ${maxDepth} are allowed`));
    },
  });
}

/**
 * Prices the operation to run with graphql-query-complexity (bounded in nodes, so linear time whatever fragments
 * fan out) and returns the error that refuses it, if any. Run after validation, with the request's variables.
 */
export function queryCostError(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  maxCost = MAX_QUERY_COST,
): GraphQLError | undefined {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [fieldCost],
      maxQueryNodes: MAX_PRICED_NODES,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/maximum allowed number of nodes/.test(message)) {
      return badInput(
        `the query expands to more than ${MAX_PRICED_NODES} fields (through its fragments); ask for less at once`,
      );
    }
    // Closed by default: what cannot be priced does not run (bad variables are named in the message).
    return badInput(`the query cannot be priced: ${message}`);
  }
  if (cost > maxCost) {
    return badInput(
      `the query is too expensive (estimated cost ${cost}, limit ${maxCost}): ask for fewer lists at once, ` +
        'e.g. a page (runsPage) or metrics(names: [...]) of one run',
    );
  }
  if (!asksForIntrospection(document)) return undefined;
  let introspection: number;
  try {
    introspection = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [introspectionCost(schema)],
      maxQueryNodes: MAX_PRICED_NODES,
    });
  } catch {
    return badInput(
      `the query expands to more than ${MAX_PRICED_NODES} fields (through its fragments); ask for less at once`,
    );
  }
  if (introspection <= MAX_INTROSPECTION_COST) return undefined;
  return badInput(
    `the introspection query is too expensive (estimated cost ${introspection}, limit ${MAX_INTROSPECTION_COST})`,
  );
}

/**
 * PostgreSQL cannot store a NUL character in text or JSON, so a NUL anywhere in what a client sends (a name, a
 * metric to monitor, a key name) is refused up front naming where it is, instead of failing at the database.
 */
export function nulCharacterError(
  document: DocumentNode,
  variables: Record<string, unknown> | undefined | null,
): GraphQLError | undefined {
  let found: string | undefined;
  visit(document, {
    StringValue(node) {
      if (found === undefined && node.value.includes('\0')) found = 'a string in the query';
    },
  });
  const walk = (value: unknown, path: string, depth: number): void => {
    if (found !== undefined || depth > 64) return;
    if (typeof value === 'string') {
      if (value.includes('\0')) found = path;
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${path}[${index}]`, depth + 1));
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        if (key.includes('\0')) found = `a key of ${path}`;
        walk((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
      }
    }
  };
  walk(variables ?? {}, 'variables', 0);
  return found === undefined
    ? undefined
    : badInput(`${found} contains a NUL character (\\u0000), which cannot be stored`);
}

/** Over HTTP: prices each operation once it is resolved (Apollo has parsed and validated it with queryLimitsRule). */
export function queryCostPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request }) {
          const error =
            nulCharacterError(document, request.variables) ??
            queryCostError(schema, document, request.variables, request.operationName);
          if (error) throw graphqlError(AppErrorCode.BadUserInput, error.message, { refusesRequest: true });
        },
      };
    },
  };
}

/** Parses a document with the token cap: a huge document is refused while it is read, not after. */
export function parseDocument(source: string): DocumentNode {
  return parse(source, { maxTokens: MAX_QUERY_TOKENS });
}

/**
 * What Apollo does for HTTP, for graphql-ws: graphql's own rules plus the limits, then the price with the
 * operation's variables. Returns the errors that refuse the operation (none: run it).
 */
export function validateDocument(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): readonly GraphQLError[] {
  const errors = validate(schema, document, [...specifiedRules, queryLimitsRule()]);
  if (errors.length > 0) return errors;
  const costError =
    nulCharacterError(document, variables) ?? queryCostError(schema, document, variables, operationName);
  return costError ? [costError] : [];
}
