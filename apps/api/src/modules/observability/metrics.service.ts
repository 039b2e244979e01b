import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { PrismaService, RunEventsRepository } from '#libs/core/db';
import { JOB_QUEUE, type JobQueue } from '#libs/core/queue';

import { RunEventsBridge } from '../runs/run-events.bridge.js';

/** Prometheus metrics. Gauges are read from the database and queue at scrape time; the rest are fed by run events. */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<string>;
  readonly graphqlDuration: Histogram<string>;
  private readonly jobWait: Histogram<string>;
  private readonly epochDuration: Histogram<string>;
  private readonly pointsWritten: Counter<string>;
  private readonly lastEpochAt = new Map<string, number>();
  private readonly waitObserved = new Set<string>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly events: RunEventsRepository,
    private readonly bridge: RunEventsBridge,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'trainer_api_' });
    const database = this.prisma;
    new Gauge({
      name: 'trainer_runs',
      help: 'Runs by status',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        const groups = await database.run.groupBy({ by: ['status'], _count: { _all: true } });
        for (const group of groups) this.set({ status: group.status }, group._count._all);
      },
    });
    const jobs = this.queue;
    new Gauge({
      name: 'trainer_queue_depth',
      help: 'Jobs on the training queue',
      labelNames: ['state'],
      registers,
      async collect() {
        const depth = await jobs.depth();
        this.set({ state: 'waiting' }, depth.waiting);
        this.set({ state: 'active' }, depth.active);
      },
    });
    this.jobWait = new Histogram({
      name: 'trainer_job_wait_seconds',
      help: 'Time from a run being queued to a worker starting it',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers,
    });
    this.epochDuration = new Histogram({
      name: 'trainer_epoch_duration_seconds',
      help: 'Wall time of one training epoch',
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    });
    this.pointsWritten = new Counter({
      name: 'trainer_metric_points_written_total',
      help: 'Metric points written by workers',
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'trainer_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.02, 0.1, 0.5, 1, 5],
      registers,
    });
    this.graphqlDuration = new Histogram({
      name: 'trainer_graphql_operation_duration_seconds',
      help: 'GraphQL operation latency',
      labelNames: ['operation', 'type'],
      buckets: [0.005, 0.02, 0.1, 0.5, 1, 5],
      registers,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.events.subscribe((event) => {
      if (event.type !== 'metrics') return;
      this.pointsWritten.inc(event.points.length);
      const at = Date.parse(event.points[0]?.timestamp ?? '');
      const last = this.lastEpochAt.get(event.runId);
      if (last !== undefined && at > last) this.epochDuration.observe((at - last) / 1000);
      this.lastEpochAt.set(event.runId, at);
      if (this.lastEpochAt.size > 10_000) this.lastEpochAt.delete(this.lastEpochAt.keys().next().value!);
    });
    this.bridge.onRun((run) => {
      const key = `${run.id}:${run.attempt}`;
      if (run.status !== 'RUNNING' || !run.startedAt || this.waitObserved.has(key)) return;
      this.waitObserved.add(key);
      if (this.waitObserved.size > 10_000) this.waitObserved.delete(this.waitObserved.values().next().value!);
      this.jobWait.observe(Math.max(0, (run.startedAt.getTime() - run.createdAt.getTime()) / 1000));
    });
  }
}
