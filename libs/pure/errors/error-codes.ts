/**
 * Every error a client can see, as the GraphQL `extensions.code`; HTTP_STATUS_BY_CODE gives the REST status of each.
 * How errors of other classes get one of these is decided in one place: apps/api/src/platform/client-errors.ts.
 * They live in a pure lib (no Nest, no Prisma) so that the dashboard's browser bundle compares codes with these too.
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
