import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { GqlContextType } from '@nestjs/graphql';
import type { Response } from 'express';
import { GraphQLError } from 'graphql';
import { DatasetError } from '#libs/pure/data';
import { SpecError } from '#libs/pure/training';
import { AppError, AppErrorCode, conflictFromDatabase, HTTP_STATUS_BY_CODE } from '#libs/core/errors';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CODE_BY_STATUS: Record<number, string> = {
  400: AppErrorCode.BadUserInput,
  401: AppErrorCode.Unauthenticated,
  403: AppErrorCode.Forbidden,
  404: AppErrorCode.NotFound,
  409: AppErrorCode.Conflict,
  413: AppErrorCode.PayloadTooLarge,
};

/** Domain errors from the libraries are bad input by nature: they describe what the user sent. */
function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof SpecError || error instanceof DatasetError) return AppError.badInput(error.message);
  return conflictFromDatabase(error);
}

/** One place maps every exception to the contract's shapes: `{statusCode, error, message}` over REST, `extensions.code` over GraphQL. */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): unknown {
    let status = 500;
    let message = 'internal error';
    const appError = toAppError(exception);
    if (appError) {
      status = HTTP_STATUS_BY_CODE[appError.code];
      message = appError.message;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const raw = typeof body === 'string' ? body : (body as { message?: string | string[] }).message;
      message = Array.isArray(raw) ? raw.join('; ') : (raw ?? exception.message);
    } else if (exception instanceof GraphQLError) {
      return exception;
    } else {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }

    if (host.getType<GqlContextType>() === 'graphql') {
      return new GraphQLError(message, { extensions: { code: CODE_BY_STATUS[status] ?? 'INTERNAL_SERVER_ERROR' } });
    }
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return undefined;
    response.status(status).json({ statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message });
    return undefined;
  }
}
