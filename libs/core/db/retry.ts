import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Retries a write while the database is unreachable (restarting, failing over), with exponential
 * backoff capped at 5 s, for up to `totalMs`. The writes it wraps are idempotent.
 */
export async function withRetry<T>(
  what: string,
  fn: () => Promise<T>,
  options: { totalMs?: number; onRetry?: (error: Error, delayMs: number) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (options.totalMs ?? 120_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const delay = Math.min(5_000, 100 * 2 ** attempt);
      if (Date.now() + delay > deadline)
        throw new Error(`${what} kept failing: ${(error as Error).message}`, { cause: error });
      options.onRetry?.(error as Error, delay);
      await sleep(delay);
    }
  }
}
