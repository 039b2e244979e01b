import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import { AppError } from '#libs/core/errors';

import { sendGraphqlRequestError, sendRestError } from '../../platform/client-errors.js';
import { dashboardShellFile } from '../web/dashboard-files.js';
import { ApiKeysService } from './api-keys.service.js';
import { type Principal, roleAllows, roleForRoute } from './roles.js';

/** The principal a request was authenticated as, for the roles guard of GraphQL operations. */
export type AuthenticatedRequest = Request & { principal?: Principal };

/**
 * When API_KEY is set, every HTTP request but GET /health must carry a key, checked before
 * anything else runs (an upload is refused before its body is read, GraphQL before validation),
 * and the key's role must allow the route (GraphQL operations are then checked field by field by
 * the roles guard). graphql-ws sockets are checked by the socket server (platform/graphql-ws.server.ts).
 */
@Injectable()
export class ApiKeyMiddleware implements NestMiddleware {
  constructor(private readonly keys: ApiKeysService) {}

  async use(request: AuthenticatedRequest, response: Response, next: NextFunction): Promise<void> {
    const path = request.originalUrl.split('?')[0];
    const principal = await this.keys.authenticate(request.headers.authorization);
    if (principal) request.principal = principal;
    if (!this.keys.enabled || (request.method === 'GET' && path === '/health')) return next();
    // The dashboard's static shell holds no data; the page asks for the key and sends it with every request.
    if (dashboardShellFile(request.method, path, request.headers.accept)) return next();
    const refuse = (error: AppError) =>
      path.startsWith('/graphql') ? sendGraphqlRequestError(response, error) : sendRestError(response, error);
    if (!principal) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      return refuse(AppError.unauthenticated());
    }
    const need = roleForRoute(request.method, path);
    if (roleAllows(principal.role, need)) return next();
    const message = `this key's role (${principal.role}) may not ${request.method} ${path}: it needs ${need}`;
    refuse(AppError.forbidden(message));
  }
}
