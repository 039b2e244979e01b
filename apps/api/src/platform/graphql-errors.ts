import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { GraphQLFormattedError } from 'graphql';
import { DatasetError } from '#libs/pure/data';
import { SpecError } from '#libs/pure/training';
import { AppError, AppErrorCode, conflictFromDatabase } from '#libs/core/errors';

const logger = new Logger('Errors');
const CLIENT_CODES = new Set<string>(Object.values(AppErrorCode));
/** graphql-js and Apollo's own codes for a document that does not parse or validate: bad input by the contract. */
const INPUT_CODES = new Set([
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
]);

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

/**
 * Every GraphQL error leaves through here: the contract's codes with their messages, and nothing else. An error
 * that is not one of ours (a driver error, a bug) is logged with its stack under an error id, and the client gets
 * "internal error" and that id; no stack or server path is ever sent, whatever NODE_ENV says.
 */
export function graphqlErrorFormatter(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const { message, locations, path } = formatted;
  const code = String(formatted.extensions?.code ?? '');
  const original = originalOf(error);
  if (original instanceof AppError)
    return { message: original.message, locations, path, extensions: { code: original.code } };
  if (original instanceof SpecError || original instanceof DatasetError) {
    return { message: original.message, locations, path, extensions: { code: AppErrorCode.BadUserInput } };
  }
  const conflict = conflictFromDatabase(original);
  if (conflict) return { message: conflict.message, locations, path, extensions: { code: conflict.code } };
  if (INPUT_CODES.has(code)) return { message, locations, path, extensions: { code: AppErrorCode.BadUserInput } };
  // A GraphQLError raised on purpose with a contract code (variables coerced wrongly, the exception filter's).
  const ours =
    original === error || original === undefined || (original instanceof Error && original.name === 'GraphQLError');
  if (CLIENT_CODES.has(code) && ours) return { message, locations, path, extensions: { code } };
  const errorId = randomUUID();
  const detail = original instanceof Error ? (original.stack ?? original.message) : String(original ?? message);
  logger.error(`error ${errorId} at ${path?.join('.') ?? 'the operation'}: ${detail}`);
  return {
    message: `internal error (error id ${errorId}: see the server log)`,
    locations,
    path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
