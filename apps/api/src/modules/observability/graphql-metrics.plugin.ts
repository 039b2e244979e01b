import type { ApolloServerPlugin } from '@apollo/server';
import type { MetricsService } from './metrics.service.js';

/** Times each GraphQL operation by name and type (query, mutation, subscription). */
export function graphqlMetricsPlugin(metrics: MetricsService): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const end = metrics.graphqlDuration.startTimer();
      return {
        async willSendResponse(context) {
          end({ operation: context.operationName ?? 'anonymous', type: context.operation?.operation ?? 'invalid' });
        },
      };
    },
  };
}
