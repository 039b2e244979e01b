import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { Kind } from 'graphql';

import type { MetricsService } from './metrics.service.js';

/**
 * Times each GraphQL operation by its first root field and type (query, mutation, subscription). The label is
 * a field of the schema or "other", never the client-chosen operation name: the series stay bounded.
 */
export function graphqlMetricsPlugin(metrics: MetricsService): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const end = metrics.graphqlDuration.startTimer();
      return {
        async willSendResponse(context) {
          end({ operation: rootFieldOf(context), type: context.operation?.operation ?? 'invalid' });
        },
      };
    },
  };
}

function rootFieldOf(context: GraphQLRequestContextWillSendResponse<object>): string {
  const operation = context.operation;
  if (!operation) return 'other';
  const { schema } = context;
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const first = operation.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
  const name = first?.kind === Kind.FIELD ? first.name.value : undefined;
  if (name === '__schema' || name === '__type') return name;
  return name !== undefined && root && Object.hasOwn(root.getFields(), name) ? name : 'other';
}
