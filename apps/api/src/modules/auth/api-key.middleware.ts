import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { dashboardShellFile } from '../web/dashboard-files.js';
import { ApiKeysService } from './api-keys.service.js';

const MESSAGE = 'missing or wrong API key: send "Authorization: Bearer <key>"';

/**
 * When API_KEY is set, every HTTP request but GET /health must carry a key, checked before
 * anything else runs (an upload is refused before its body is read, GraphQL before validation).
 * graphql-ws connections are checked once, when they connect (see the GraphQL module's onConnect).
 */
@Injectable()
export class ApiKeyMiddleware implements NestMiddleware {
  constructor(private readonly keys: ApiKeysService) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    const path = request.originalUrl.split('?')[0];
    if (!this.keys.enabled || (request.method === 'GET' && path === '/health')) return next();
    // The dashboard's static shell holds no data; the page asks for the key and sends it with every request.
    if (dashboardShellFile(request.method, path, request.headers.accept)) return next();
    if (await this.keys.isAuthorized(request.headers.authorization)) return next();
    response.setHeader('WWW-Authenticate', 'Bearer');
    if (path.startsWith('/graphql')) {
      response.status(401).json({ errors: [{ message: MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }] });
    } else {
      response.status(401).json({ statusCode: 401, error: 'Unauthorized', message: MESSAGE });
    }
  }
}
