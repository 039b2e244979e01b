import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import { AppError, AppErrorCode } from '#libs/core/errors';

import { sendRestError } from '../../platform/client-errors.js';
import { DASHBOARD_DIR, dashboardBuilt, dashboardShellFile } from './dashboard-files.js';

/**
 * Serves the dashboard from the API process itself: `/` and `/ui/...` (any depth, so a deep link survives a reload)
 * get the single page, `/assets/...` its bundles, and GET /graphql from a browser GraphiQL. Everything else, POST
 * /graphql and graphql-ws included, passes through unchanged.
 */
@Injectable()
export class DashboardMiddleware implements NestMiddleware {
  use(request: Request, response: Response, next: NextFunction): void {
    const path = request.originalUrl.split('?')[0];
    const file = dashboardShellFile(request.method, path, request.headers.accept);
    if (!file) return next();
    if (!dashboardBuilt()) {
      const message = 'the dashboard is not built: run npm run build';
      return sendRestError(response, new AppError(AppErrorCode.NotFound, message));
    }
    const isAsset = file.startsWith('assets/');
    // The page itself is never cached, so a new build is picked up on reload; its assets may be, briefly.
    response.setHeader('Cache-Control', isAsset ? 'public, max-age=300' : 'no-cache');
    response.sendFile(file, { root: DASHBOARD_DIR, dotfiles: 'deny' }, (error) => {
      if (!error || response.headersSent) return;
      sendRestError(response, new AppError(AppErrorCode.NotFound, `no such dashboard file: ${path}`));
    });
  }
}
