import { STATUS_CODES } from 'node:http';

import { Logger, NotFoundException, PayloadTooLargeException, ServiceUnavailableException } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { AppError, AppErrorCode } from '#libs/core/errors';
import { DatasetError } from '#libs/pure/data';
import { UserInputError } from '#libs/pure/errors';
import { EarlyStoppingError, parseEarlyStopping, parseSearchSpace, parseStrategyOptions } from '#libs/pure/search';
import { encodeRows, type Preprocessing, SpecError, validateModelSpec } from '#libs/pure/training';

import { graphqlErrorFormatter, knownClientError, restErrorBody, toGraphqlError } from './client-errors.js';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('client errors: one table from error to code and status', () => {
  let logged: string[];
  beforeEach(() => {
    logged = [];
    vi.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void logged.push(String(message)));
  });
  afterEach(() => vi.restoreAllMocks());

  it('answers every user-input error of the pure libraries as BAD_USER_INPUT / 400 with its own message', () => {
    const errors = [
      thrown(() => parseSearchSpace({ lr: { type: 'uniform', min: 1, max: 0 } }, 'RANDOM')),
      thrown(() => parseEarlyStopping({ rule: 'sometimes' }, 'RANDOM', 5)),
      thrown(() => parseStrategyOptions({ gamma: 1 }, 'TPE', 10)),
      thrown(() => validateModelSpec({ layers: [] }, { allowReferences: true })),
      thrown(() => encodeRows({ features: [], inputSize: 0 } as unknown as Preprocessing, [42])),
      new DatasetError('line 3 has 2 fields but the header has 3'),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(UserInputError);
      expect(knownClientError(error)).toEqual({
        code: AppErrorCode.BadUserInput,
        status: 400,
        message: (error as Error).message,
      });
    }
    expect((errors[0] as Error).message).toMatch(/^searchSpace\.lr/);
    expect(errors[1]).toBeInstanceOf(EarlyStoppingError);
    expect(errors[3]).toBeInstanceOf(SpecError);
  });

  it('gives AppError its own code and the status of that code', () => {
    expect(knownClientError(AppError.notFound('run', 'x'))).toEqual({
      code: AppErrorCode.NotFound,
      status: 404,
      message: 'run "x" not found',
    });
    expect(knownClientError(AppError.conflict('busy'))?.status).toBe(409);
    expect(knownClientError(AppError.forbidden('no'))?.status).toBe(403);
    expect(knownClientError(AppError.unauthenticated())?.status).toBe(401);
  });

  it('answers a foreign-key race as CONFLICT, and Nest HTTP errors by their status', () => {
    expect(knownClientError({ code: 'P2003', meta: {} })?.code).toBe(AppErrorCode.Conflict);
    expect(knownClientError(new PayloadTooLargeException('File too large'))).toEqual({
      code: AppErrorCode.PayloadTooLarge,
      status: 413,
      message: 'File too large',
    });
    expect(knownClientError(new NotFoundException('Cannot GET /nope'))?.code).toBe(AppErrorCode.NotFound);
    const unhealthy = knownClientError(new ServiceUnavailableException('unhealthy: the queue did not answer'));
    expect(unhealthy).toMatchObject({ code: AppErrorCode.Internal, status: 503 });
  });

  it('knows nothing of a plain error: that is a fault of ours', () => {
    expect(knownClientError(new Error('connection refused at /var/run/postgresql'))).toBeUndefined();
    expect(knownClientError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeUndefined();
  });

  it('builds REST bodies with the HTTP status text of node:http', () => {
    expect(restErrorBody(400, 'name must not be empty')).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'name must not be empty',
    });
    for (const code of Object.values(AppErrorCode)) {
      const status = knownClientError(new AppError(code, 'm'))!.status;
      expect(restErrorBody(status, 'm').error).toBe(STATUS_CODES[status]);
    }
  });

  it('formats GraphQL errors from the same table, hiding a fault of ours behind an error id', () => {
    // As Apollo calls formatError: the located error, formatted, with INTERNAL_SERVER_ERROR where it has no code.
    const format = (original: Error) => {
      const error = new GraphQLError(original.message, { path: ['field'], originalError: original });
      const formatted = error.toJSON();
      return graphqlErrorFormatter(
        { ...formatted, extensions: { code: 'INTERNAL_SERVER_ERROR', ...formatted.extensions } },
        error,
      );
    };
    const spec = thrown(() => validateModelSpec('dense', { allowReferences: true })) as Error;
    expect(format(spec)).toMatchObject({ message: spec.message, extensions: { code: 'BAD_USER_INPUT' } });
    expect(format(toGraphqlError(AppError.notFound('sweep', 'y')))).toMatchObject({
      message: 'sweep "y" not found',
      extensions: { code: 'NOT_FOUND' },
    });
    const parseFailed = { message: 'Syntax Error: Expected Name', extensions: { code: 'GRAPHQL_PARSE_FAILED' } };
    expect(graphqlErrorFormatter(parseFailed, new GraphQLError(parseFailed.message))).toMatchObject({
      message: 'Syntax Error: Expected Name',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const hidden = format(new Error('password authentication failed for user "postgres"'));
    expect(hidden.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(hidden.message).toMatch(/^internal error \(error id [0-9a-f-]{36}: see the server log\)$/);
    expect(logged.join('\n')).toContain('password authentication failed');
    // A GraphQLError claiming INTERNAL_SERVER_ERROR is not passed through with its own message either.
    const claimed = { message: 'secret detail', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    expect(graphqlErrorFormatter(claimed, new GraphQLError('secret detail')).message).not.toContain('secret');
  });

  it("leaves a resolver's unknown error for the formatter to log and hide, and maps known ones", () => {
    const bug = new Error('boom');
    expect(toGraphqlError(bug)).toBe(bug);
    expect(toGraphqlError('a string thrown')).toBeInstanceOf(Error);
    const known = toGraphqlError(new DatasetError('bad row')) as GraphQLError;
    expect(known.extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });
});
