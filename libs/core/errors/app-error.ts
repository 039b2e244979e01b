import { AppErrorCode } from '#libs/pure/errors';

export { AppErrorCode, HTTP_STATUS_BY_CODE } from '#libs/pure/errors';

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
