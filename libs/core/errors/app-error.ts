/**
 * Every error a client can see, as the GraphQL `extensions.code`; HTTP_STATUS_BY_CODE gives the REST status of each.
 * How errors of other classes get one of these is decided in one place: apps/api/src/platform/client-errors.ts.
 */
export enum AppErrorCode {
  BadUserInput = 'BAD_USER_INPUT',
  NotFound = 'NOT_FOUND',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  /** A fault of ours: the client gets only an error id to quote, the stack goes to the log. */
  Internal = 'INTERNAL_SERVER_ERROR',
}

export const HTTP_STATUS_BY_CODE: Record<AppErrorCode, number> = {
  [AppErrorCode.BadUserInput]: 400,
  [AppErrorCode.Unauthenticated]: 401,
  [AppErrorCode.Forbidden]: 403,
  [AppErrorCode.NotFound]: 404,
  [AppErrorCode.Conflict]: 409,
  [AppErrorCode.PayloadTooLarge]: 413,
  [AppErrorCode.Internal]: 500,
};

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static badInput(message: string): AppError {
    return new AppError(AppErrorCode.BadUserInput, message);
  }

  static notFound(kind: string, id: string): AppError {
    return new AppError(AppErrorCode.NotFound, `${kind} "${id}" not found`);
  }

  static unauthenticated(): AppError {
    return new AppError(AppErrorCode.Unauthenticated, 'missing or wrong API key: send "Authorization: Bearer <key>"');
  }

  static forbidden(message: string): AppError {
    return new AppError(AppErrorCode.Forbidden, message);
  }

  static conflict(message: string): AppError {
    return new AppError(AppErrorCode.Conflict, message);
  }
}

/**
 * A database error a client can cause by racing another request: a row it refers to was deleted meanwhile (a
 * run started on a dataset being deleted). Answered as CONFLICT instead of an internal error.
 */
export function conflictFromDatabase(error: unknown): AppError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  type DriverMeta = { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown } } };
  const { code, meta } = error as { code?: unknown; meta?: DriverMeta };
  const foreignKey =
    code === 'P2003' ||
    (code === 'P2010' && meta?.code === '23503') ||
    meta?.driverAdapterError?.cause?.originalCode === '23503';
  if (!foreignKey) return undefined;
  return AppError.conflict(
    'a record this refers to was deleted meanwhile (or is still referred to): retry, or check what it names',
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids are UUIDs; anything else cannot name a record, so it is reported as not found rather than reaching the database.
 */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
