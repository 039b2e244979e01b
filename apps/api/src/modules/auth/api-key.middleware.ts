import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { dashboardShellFile } from '../web/dashboard-files.js';
import { ApiKeysService } from './api-keys.service.js';
import { type Principal, roleAllows, roleForRoute } from './roles.js';

const MESSAGE = 'missing or wrong API key: send "Authorization: Bearer <key>"';

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
    const graphql = path.startsWith('/graphql');
    if (!principal) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      if (graphql)
        response.status(401).json({ errors: [{ message: MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }] });
      else response.status(401).json({ statusCode: 401, error: 'Unauthorized', message: MESSAGE });
      return;
    }
    const need = roleForRoute(request.method, path);
    if (roleAllows(principal.role, need)) return next();
    const message = `this key's role (${principal.role}) may not ${request.method} ${path}: it needs ${need}`;
    if (graphql) response.status(403).json({ errors: [{ message, extensions: { code: 'FORBIDDEN' } }] });
    else response.status(403).json({ statusCode: 403, error: 'Forbidden', message });
  }
}
