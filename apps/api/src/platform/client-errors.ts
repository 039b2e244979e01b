import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

import { HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { type ASTNode, GraphQLError, type GraphQLFormattedError } from 'graphql';

import { AppError, AppErrorCode, conflictFromDatabase, HTTP_STATUS_BY_CODE } from '#libs/core/errors';
import { UserInputError } from '#libs/pure/errors';

/**
 * The one place an error becomes what a client sees: a contract code (AppErrorCode), its HTTP status, a message.
 * REST bodies (`{statusCode, error, message}`) and GraphQL errors (`extensions.code`) are both made here, from the
 * tables below; filters, middleware and validation rules only call in.
 */
export interface ClientError {
  code: AppErrorCode;
  status: number;
  message: string;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Errors other than AppError that a client can cause, by class: the first match wins. */
const CODE_BY_CLASS: readonly (readonly [ErrorClass, AppErrorCode])[] = [
  // The pure libraries' errors (a bad spec, search space, dataset file, predict row) name what the user sent.
  [UserInputError, AppErrorCode.BadUserInput],
];

/** The codes graphql-js and Apollo give a document that does not parse or validate: bad input by the contract. */
const CODE_BY_GRAPHQL_CODE: Readonly<Record<string, AppErrorCode>> = {
  GRAPHQL_PARSE_FAILED: AppErrorCode.BadUserInput,
  GRAPHQL_VALIDATION_FAILED: AppErrorCode.BadUserInput,
  BAD_REQUEST: AppErrorCode.BadUserInput,
  OPERATION_RESOLUTION_FAILURE: AppErrorCode.BadUserInput,
};

/** Nest's and Express's own HTTP errors (an unknown route, a file over the upload limit) by status. */
const CODE_BY_STATUS = new Map<number, AppErrorCode>(
  Object.entries(HTTP_STATUS_BY_CODE).map(([code, status]) => [status, code as AppErrorCode]),
);

/** Codes a GraphQLError raised on purpose may carry through the formatter as they are (not INTERNAL_SERVER_ERROR). */
const PASSED_CODES = new Set<string>(Object.values(AppErrorCode).filter((code) => code !== AppErrorCode.Internal));

const logger = new Logger('Errors');

function clientError(code: AppErrorCode, message: string, status = HTTP_STATUS_BY_CODE[code]): ClientError {
  return { code, status, message };
}

function httpExceptionMessage(exception: HttpException): string {
  const body = exception.getResponse();
  const raw = typeof body === 'string' ? body : (body as { message?: string | string[] }).message;
  return Array.isArray(raw) ? raw.join('; ') : (raw ?? exception.message);
}

/** What the client may be told of an error, or undefined when it is a fault of ours (see internalError). */
export function knownClientError(error: unknown): ClientError | undefined {
  if (error instanceof AppError) return clientError(error.code, error.message);
  for (const [type, code] of CODE_BY_CLASS) if (error instanceof type) return clientError(code, error.message);
  const conflict = conflictFromDatabase(error);
  if (conflict) return clientError(conflict.code, conflict.message);
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return clientError(CODE_BY_STATUS.get(status) ?? AppErrorCode.Internal, httpExceptionMessage(error), status);
  }
  return undefined;
}

/**
 * An error that is not the client's (a driver error, a bug): logged with its stack under an error id, and the client
 * gets "internal error" and that id. No stack, server path or driver message is ever sent, whatever NODE_ENV says.
 */
export function internalError(error: unknown, where: string): ClientError {
  const errorId = randomUUID();
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  logger.error(`error ${errorId} at ${where}: ${detail}`);
  return clientError(AppErrorCode.Internal, `internal error (error id ${errorId}: see the server log)`);
}

/** The REST error body of the contract: `{"statusCode": N, "error": "<HTTP status text>", "message": "..."}`. */
export function restErrorBody(status: number, message: string): { statusCode: number; error: string; message: string } {
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
}

/** Answers a REST request with an error (an AppError, a library error, or anything else, which is logged). */
export function sendRestError(response: Response, error: unknown, where = 'a REST request'): void {
  const { status, message } = knownClientError(error) ?? internalError(error, where);
  response.status(status).json(restErrorBody(status, message));
}

/**
 * Answers a GraphQL request over HTTP that is refused before it reaches Apollo (no key, a role that may not):
 * the `{errors: [...]}` body a GraphQL client reads, with the code's HTTP status.
 */
export function sendGraphqlRequestError(response: Response, error: AppError): void {
  const body = { errors: [{ message: error.message, extensions: { code: error.code } }] };
  response.status(HTTP_STATUS_BY_CODE[error.code]).json(body);
}

/**
 * A GraphQL error with a contract code. `refusesRequest` also sets the HTTP status of the response (Apollo reads
 * `extensions.http`), for an error that refuses the whole request before anything runs.
 */
export function graphqlError(
  code: AppErrorCode,
  message: string,
  options: { nodes?: ASTNode | readonly ASTNode[]; refusesRequest?: boolean } = {},
): GraphQLError {
  const http = options.refusesRequest ? { http: { status: HTTP_STATUS_BY_CODE[code] } } : {};
  return new GraphQLError(message, { nodes: options.nodes, extensions: { code, ...http } });
}

/**
 * What a resolver's exception becomes (AppExceptionFilter): a GraphQLError with the contract code, or, for a fault
 * of ours, the error itself, which graphqlErrorFormatter logs and hides.
 */
export function toGraphqlError(exception: unknown): Error {
  if (exception instanceof GraphQLError) return exception;
  const known = knownClientError(exception);
  if (known) return graphqlError(known.code, known.message);
  return exception instanceof Error ? exception : new Error(String(exception));
}

function originalOf(error: unknown): unknown {
  let current = error;
  for (
    let i = 0;
    i < 5 && current && typeof current === 'object' && 'originalError' in current && current.originalError;
    i++
  ) {
    current = current.originalError;
  }
  return current;
}

/** Apollo's formatError: every GraphQL error over HTTP leaves through here, with a contract code and nothing else. */
export function graphqlErrorFormatter(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const { locations, path } = formatted;
  const given = String(formatted.extensions?.code ?? '');
  const original = originalOf(error);
  const known =
    knownClientError(original) ??
    (CODE_BY_GRAPHQL_CODE[given] ? clientError(CODE_BY_GRAPHQL_CODE[given], formatted.message) : undefined) ??
    // A GraphQLError raised on purpose with a contract code (variables coerced wrongly, toGraphqlError's).
    (PASSED_CODES.has(given) &&
    (original === error || original === undefined || (original instanceof Error && original.name === 'GraphQLError'))
      ? clientError(given as AppErrorCode, formatted.message)
      : undefined);
  const { code, message } = known ?? internalError(original ?? formatted.message, path?.join('.') ?? 'the operation');
  return { message, locations, path, extensions: { code } };
}
