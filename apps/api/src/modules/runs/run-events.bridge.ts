import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PubSub } from 'graphql-subscriptions';

import { RunEventsRepository } from '#libs/core/db';
import type { MetricPoint, Run } from '#libs/domain/runs';
import { type RunRow, RunsRepository } from '#libs/domain/runs';

export const runTopic = (id: string) => `run:${id}`;
export const metricTopic = (id: string) => `metric:${id}`;

/**
 * Feeds GraphQL subscriptions from the database's run events, so any API instance serves the
 * subscribers of any run, whichever worker trains it.
 */
@Injectable()
export class RunEventsBridge implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RunEventsBridge.name);
  readonly pubSub = new PubSub();
  private unsubscribe: (() => void) | undefined;
  private readonly runListeners: ((run: RunRow) => void)[] = [];

  constructor(
    private readonly events: RunEventsRepository,
    private readonly runs: RunsRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    this.unsubscribe = await this.events.subscribe((event) => {
      if (event.type === 'metrics') {
        for (const point of event.points) {
          void this.pubSub.publish(metricTopic(event.runId), {
            ...point,
            timestamp: new Date(point.timestamp),
          } satisfies MetricPoint);
        }
        return;
      }
      this.runs
        .findById(event.runId)
        .then((run) => {
          if (!run) return;
          for (const listener of this.runListeners) listener(run);
          return this.pubSub.publish(runTopic(run.id), run as Run);
        })
        .catch((error: Error) => this.logger.warn(`run event for ${event.runId}: ${error.message}`));
    });
  }

  /** Hears every run change this instance loads, e.g. for metrics. */
  onRun(listener: (run: RunRow) => void): void {
    this.runListeners.push(listener);
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
