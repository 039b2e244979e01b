import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { type GqlContextType, GqlExecutionContext } from '@nestjs/graphql';

import { AppError } from '#libs/core/errors';

import type { AuthenticatedRequest } from './api-key.middleware.js';
import { ApiKeysService } from './api-keys.service.js';
import { type Principal, roleAllows, roleForOperation } from './roles.js';

/** The GraphQL context of both transports: HTTP carries the request, graphql-ws the principal of its socket. */
export interface GraphqlRequestContext {
  req?: AuthenticatedRequest;
  principal?: Principal;
}

/**
 * Checks each top-level GraphQL field against the caller's role, over HTTP and graphql-ws alike (field resolvers
 * below the top level run no guards: what a query reads is decided by its root field). REST routes are checked
 * by the API key middleware, which knows the path before the body is read.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly keys: ApiKeysService) {}

  canActivate(execution: ExecutionContext): boolean {
    if (execution.getType<GqlContextType>() !== 'graphql' || !this.keys.enabled) return true;
    const gql = GqlExecutionContext.create(execution);
    const info = gql.getInfo<{
      operation: { operation: 'query' | 'mutation' | 'subscription' };
      fieldName: string;
      path: { prev?: unknown };
    }>();
    if (info.path.prev !== undefined) return true;
    const context = gql.getContext<GraphqlRequestContext>();
    const principal = context.principal ?? context.req?.principal;
    if (!principal) throw AppError.unauthenticated();
    const need = roleForOperation(info.operation.operation, info.fieldName);
    if (!roleAllows(principal.role, need)) {
      throw AppError.forbidden(`this key's role (${principal.role}) may not run ${info.fieldName}: it needs ${need}`);
    }
    return true;
  }
}
