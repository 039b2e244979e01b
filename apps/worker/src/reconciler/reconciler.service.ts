import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { JOB_QUEUE, type JobQueue } from '#libs/core/queue';
import { RunLifecycle } from '#libs/domain/runs';
import { SweepScheduler } from '#libs/domain/sweeps';

/**
 * The database is the one source of truth and the queue only dispatches. At start and then
 * periodically, this puts every QUEUED run (back) on the queue and hands runs whose worker
 * stopped beating back to the queue with attempt + 1, or fails them after MAX_ATTEMPTS.
 * Enqueueing is idempotent (job id = run id + attempt), so any number of workers may do it at once.
 */
@Injectable()
export class ReconcilerService implements OnApplicationShutdown {
  private readonly logger = new Logger(ReconcilerService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lifecycle: RunLifecycle,
    private readonly sweeps: SweepScheduler,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  start(): void {
    const every = Math.max(1_000, Math.floor(this.config.worker.heartbeatTimeoutMs / 2));
    const tick = () => {
      this.reconcile()
        .catch((error: Error) => this.logger.warn(`reconcile failed: ${error.message}`))
        .finally(() => {
          this.timer = setTimeout(tick, every);
        });
    };
    tick();
  }

  async reconcile(): Promise<{ requeued: number; failed: number; enqueued: number }> {
    const lost = await this.lifecycle.reclaimLost(
      this.config.worker.heartbeatTimeoutMs,
      this.config.worker.maxAttempts,
    );
    for (const run of lost) {
      const outcome = run.status === 'FAILED' ? 'failed after max attempts' : `re-queued as attempt ${run.attempt}`;
      this.logger.warn(`run ${run.id}: worker lost; ${outcome}`);
    }
    const queued = await this.lifecycle.queuedJobs();
    for (const job of queued) await this.queue.enqueue(job);
    // A process lost between a trial's end and its sweep's next ask leaves the sweep short of trials: ask again.
    for (const sweepId of await this.sweeps.runningSweepIds()) await this.sweeps.advance(sweepId);
    return {
      requeued: lost.filter((run) => run.status === 'QUEUED').length,
      failed: lost.filter((run) => run.status === 'FAILED').length,
      enqueued: queued.length,
    };
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }
}
