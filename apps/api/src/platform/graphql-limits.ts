import {
  type FieldNode,
  type GraphQLCompositeType,
  GraphQLError,
  type GraphQLOutputType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
} from 'graphql';

export const MAX_QUERY_DEPTH = 10;
export const MAX_QUERY_COST = 50_000;
/** How many items a list field is assumed to hold when a query is priced; metric points are the long lists. */
const LIST_SIZE: Record<string, number> = { points: 200 };
const DEFAULT_LIST_SIZE = 20;

function isList(type: GraphQLOutputType): boolean {
  return isListType(getNullableType(type));
}

/**
 * Prices a query before it runs: each field costs 1 times the sizes of the lists above it, so
 * "every series of every run" is refused up front instead of being computed. `metrics(names: [...])`
 * is priced by the number of names asked for.
 */
export function queryLimitsRule(maxDepth = MAX_QUERY_DEPTH, maxCost = MAX_QUERY_COST): ValidationRule {
  return (context: ValidationContext) => {
    const walk = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number, depth: number, seen: Set<string>): { cost: number; depth: number } => {
      let cost = 0;
      let deepest = depth;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          if (seen.has(selection.name.value)) continue;
          const fragment = context.getFragment(selection.name.value);
          const type = fragment && context.getSchema().getType(fragment.typeCondition.name.value);
          if (fragment && type && isCompositeType(type)) {
            const inner = walk(fragment.selectionSet, type, multiplier, depth, new Set([...seen, selection.name.value]));
            cost += inner.cost;
            deepest = Math.max(deepest, inner.depth);
          }
          continue;
        }
        if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? context.getSchema().getType(selection.typeCondition.name.value) : parent;
          if (type && isCompositeType(type)) {
            const inner = walk(selection.selectionSet, type, multiplier, depth, seen);
            cost += inner.cost;
            deepest = Math.max(deepest, inner.depth);
          }
          continue;
        }
        const field = selection as FieldNode;
        if (field.name.value.startsWith('__') || !('getFields' in parent)) continue;
        const definition = parent.getFields()[field.name.value];
        if (!definition) continue;
        let size = 1;
        if (isList(definition.type)) {
          size = LIST_SIZE[field.name.value] ?? DEFAULT_LIST_SIZE;
          const names = field.arguments?.find((argument) => argument.name.value === 'names');
          if (names?.value.kind === Kind.LIST) size = Math.max(1, names.value.values.length);
        }
        cost += multiplier * size;
        const named = getNamedType(definition.type);
        if (field.selectionSet && isCompositeType(named)) {
          const inner = walk(field.selectionSet, named, multiplier * size, depth + 1, seen);
          cost += inner.cost;
          deepest = Math.max(deepest, inner.depth);
        }
      }
      return { cost, depth: deepest };
    };
    return {
      OperationDefinition(operation) {
        const root = operation.operation === 'query' ? context.getSchema().getQueryType() : operation.operation === 'mutation' ? context.getSchema().getMutationType() : context.getSchema().getSubscriptionType();
        if (!root) return;
        const { cost, depth } = walk(operation.selectionSet, root, 1, 1, new Set());
        if (depth > maxDepth) context.reportError(new GraphQLError(`the query is ${depth} levels deep; at most ${maxDepth} are allowed`, { extensions: { code: 'BAD_USER_INPUT' } }));
        if (cost > maxCost) {
          context.reportError(
            new GraphQLError(`the query is too expensive (estimated cost ${cost}, limit ${maxCost}): ask for fewer lists at once, e.g. metrics(names: [...]) of one run`, {
              extensions: { code: 'BAD_USER_INPUT' },
            }),
          );
        }
      },
    };
  };
}
