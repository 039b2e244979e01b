import type { LoggerService } from '@nestjs/common';
import { pino } from 'pino';

const RUN_CONTEXT = /^run ([0-9a-f-]{36})$/;

/**
 * Nest's logger as structured JSON lines (pino). A logger whose context is "run <id>" (one per run
 * in the worker) puts `runId` on every line it writes, so a run's whole story can be filtered out.
 */
export class JsonLogger implements LoggerService {
  private readonly pino;

  constructor(service: string, level = 'info') {
    this.pino = pino({ level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
  }

  private write(level: 'info' | 'warn' | 'error' | 'debug' | 'trace', message: unknown, params: unknown[]): void {
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    const fields: Record<string, unknown> = {};
    const run = context && RUN_CONTEXT.exec(context);
    if (run) fields.runId = run[1];
    else if (context) fields.context = context;
    if (level === 'error' && typeof params[0] === 'string' && params.length > 1) fields.stack = params[0];
    this.pino[level](fields, typeof message === 'string' ? message : JSON.stringify(message));
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
}
