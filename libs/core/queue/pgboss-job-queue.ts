import { createHash } from 'node:crypto';

import PgBoss from 'pg-boss';

import {
  type EnqueueOptions,
  type JobHandler,
  jobId,
  type JobQueue,
  type QueueDepth,
  type TrainRunJob,
} from './job-queue.port.js';

export interface PgBossJobQueueOptions {
  /** The PostgreSQL the service already uses; pg-boss keeps its tables in a schema of its own. */
  databaseUrl: string;
  queueName: string;
  schema?: string;
  /** How often an idle consumer asks for a job (pg-boss's minimum is 0.5 s). */
  pollIntervalMs?: number;
  onError?: (error: Error) => void;
}

/**
 * pg-boss fails an active job after this long; it must stay under its 24 h cap. Lost workers are the reconciler's
 * business.
 */
const EXPIRE_IN_SECONDS = 23 * 60 * 60;

/**
 * A stable UUID (RFC 4122 version-5 layout over SHA-1) for a job id, since pg-boss ids are UUIDs.
 * Sending a job whose id exists is a no-op in pg-boss (`ON CONFLICT DO NOTHING`), which is what
 * makes enqueueing idempotent.
 */
export function pgBossJobUuid(queueName: string, id: string): string {
  const hash = createHash('sha1').update(`${queueName}\u0000${id}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The embedded queue driver: pg-boss 10 over the service's own PostgreSQL (schema `pgboss`), so
 * `npm start` needs no Redis. Same semantics as the BullMQ driver:
 * - job id = run id + attempt, mapped to a deterministic UUID: a second enqueue of a job that is
 *   waiting or running queues nothing; a finished or failed one is replaced (BullMQ removes those);
 * - priority: BullMQ runs no-priority jobs first, then lower numbers; pg-boss runs higher numbers
 *   first, so the pg-boss priority is minus the BullMQ one;
 * - no retries by the driver (retryLimit 0): the reconciler re-queues lost runs with attempt + 1.
 * Consumers are our own fetch loops, one per unit of concurrency, so a loop takes a job only when
 * its previous one returned, and stopping waits for every loop (and so every handler) to end.
 */
export class PgBossJobQueue implements JobQueue {
  readonly driver = 'pg-boss';
  private readonly boss: PgBoss;
  private readonly schema: string;
  private readonly queueName: string;
  private readonly pollIntervalMs: number;
  private started: Promise<void> | undefined;
  private consuming: { stop: boolean; loops: Promise<void>[]; wake: Set<() => void> } | undefined;

  constructor(options: PgBossJobQueueOptions) {
    this.schema = options.schema ?? 'pgboss';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.schema))
      throw new Error(`pg-boss schema "${this.schema}" must be a plain lower-case identifier`);
    this.queueName = options.queueName;
    this.pollIntervalMs = Math.max(100, options.pollIntervalMs ?? 500);
    this.boss = new PgBoss({
      connectionString: options.databaseUrl,
      schema: this.schema,
      application_name: 'trainer-pgboss',
      max: 4,
      // Passed through to pg.Pool: fail fast (health answers 503) rather than hang when PostgreSQL is gone.
      connectionTimeoutMillis: 5_000,
      schedule: false,
      retryLimit: 0,
      expireInSeconds: EXPIRE_IN_SECONDS,
    } as PgBoss.ConstructorOptions);
    const onError = options.onError ?? ((error: Error) => console.warn(`pg-boss: ${error.message}`));
    this.boss.on('error', onError);
  }

  /** Creates the schema and the queue when missing; safe to call from any number of processes at once. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.boss.start();
      await this.boss.createQueue(this.queueName, {
        name: this.queueName,
        policy: 'standard',
        retryLimit: 0,
        expireInSeconds: EXPIRE_IN_SECONDS,
      });
    })();
    // A failed start (PostgreSQL not up yet) is tried again by the next call.
    this.started.catch(() => {
      this.started = undefined;
    });
    return this.started;
  }

  private async sql<T extends Record<string, unknown>>(
    text: string,
    values: unknown[] = [],
  ): Promise<{ rows: T[]; rowCount: number }> {
    await this.start();
    const result = (await this.boss.getDb().executeSql(text, values)) as
      { rows: T[]; rowCount?: number | null } | undefined;
    if (!result) throw new Error('pg-boss is stopped');
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  }

  private uuid(job: TrainRunJob): string {
    return pgBossJobUuid(this.queueName, jobId(job));
  }

  async enqueue(job: TrainRunJob, options: EnqueueOptions = {}): Promise<void> {
    await this.start();
    const id = this.uuid(job);
    const send = () =>
      this.boss.send(
        this.queueName,
        { runId: job.runId, attempt: job.attempt },
        {
          id,
          singletonKey: jobId(job),
          priority: options.priority ? -options.priority : 0,
          retryLimit: 0,
          expireInSeconds: EXPIRE_IN_SECONDS,
        },
      );
    if ((await send()) !== null) return this.wakeConsumers();
    // Taken: a waiting or running job stays as it is; a finished one is replaced, as BullMQ
    // (removeOnComplete / removeOnFail) would add it again.
    const gone = await this.sql(
      `DELETE FROM ${this.schema}.job WHERE name = $1 AND id = $2 AND state IN ('completed', 'cancelled', 'failed')`,
      [this.queueName, id],
    );
    if (gone.rowCount > 0 && (await send()) !== null) this.wakeConsumers();
  }

  async remove(job: TrainRunJob): Promise<void> {
    await this.sql(`DELETE FROM ${this.schema}.job WHERE name = $1 AND id = $2 AND state IN ('created', 'retry')`, [
      this.queueName,
      this.uuid(job),
    ]);
  }

  async consume(handler: JobHandler, concurrency: number): Promise<void> {
    if (this.consuming) throw new Error('already consuming');
    await this.start();
    const state = { stop: false, loops: [] as Promise<void>[], wake: new Set<() => void>() };
    this.consuming = state;
    const idle = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          state.wake.delete(done);
          resolve();
        };
        const timer = setTimeout(done, this.pollIntervalMs);
        state.wake.add(done);
      });
    const loop = async () => {
      while (!state.stop) {
        let fetched: PgBoss.Job<TrainRunJob>[] | null = null;
        try {
          fetched = await this.boss.fetch<TrainRunJob>(this.queueName, { batchSize: 1 });
        } catch (error) {
          this.boss.emit('error', error);
        }
        const job = fetched?.[0];
        if (!job) {
          if (!state.stop) await idle();
          continue;
        }
        try {
          await handler({ runId: job.data.runId, attempt: job.data.attempt });
          await this.boss.complete(this.queueName, job.id).catch((error: Error) => this.boss.emit('error', error));
        } catch (error) {
          const reason = error instanceof Error ? { message: error.message } : { message: String(error) };
          await this.boss
            .fail(this.queueName, job.id, reason)
            .catch((failure: Error) => this.boss.emit('error', failure));
        }
      }
    };
    for (let i = 0; i < Math.max(1, concurrency); i++) state.loops.push(loop());
  }

  private wakeConsumers(): void {
    for (const wake of [...(this.consuming?.wake ?? [])]) wake();
  }

  async stopConsuming(): Promise<void> {
    const state = this.consuming;
    if (!state) return;
    state.stop = true;
    this.wakeConsumers();
    await Promise.all(state.loops);
    if (this.consuming === state) this.consuming = undefined;
  }

  async depth(): Promise<QueueDepth> {
    const { rows } = await this.sql<{ waiting: string; active: string }>(
      `SELECT count(*) FILTER (WHERE state IN ('created', 'retry')) AS waiting,
              count(*) FILTER (WHERE state = 'active') AS active
       FROM ${this.schema}.job WHERE name = $1`,
      [this.queueName],
    );
    return { waiting: Number(rows[0]?.waiting ?? 0), active: Number(rows[0]?.active ?? 0) };
  }

  async ping(): Promise<void> {
    await this.sql('SELECT 1');
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    if (!this.started) return;
    await this.started.catch(() => undefined);
    await this.boss.stop({ graceful: false, close: true, wait: true });
  }
}
