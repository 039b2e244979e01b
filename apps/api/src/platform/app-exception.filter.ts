import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { GqlContextType } from '@nestjs/graphql';
import type { Request, Response } from 'express';

import { sendRestError, toGraphqlError } from './client-errors.js';

/**
 * Every exception a controller or resolver throws ends here and is answered through client-errors.ts: a REST body,
 * or a GraphQL error for Apollo's formatter. Services throw AppError or let library errors through; none translates.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<GqlContextType>() === 'graphql') return toGraphqlError(exception);
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    if (response.headersSent) return undefined;
    const request = http.getRequest<Request>();
    sendRestError(response, exception, `${request.method} ${request.originalUrl.split('?')[0]}`);
    return undefined;
  }
}
