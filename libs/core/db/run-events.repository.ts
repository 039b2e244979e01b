import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';

import { PrismaService } from './prisma.service.js';

export interface MetricPointEvent {
  name: string;
  step: number;
  epoch: number | null;
  value: number;
  timestamp: string;
}

export type RunEvent = { type: 'run'; runId: string } | { type: 'metrics'; runId: string; points: MetricPointEvent[] };

const CHANNEL = 'run_events';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7_500;

/**
 * Run events travel over PostgreSQL LISTEN/NOTIFY, so workers and API instances need nothing but
 * the database to reach every subscriber, whichever queue driver is in use.
 */
@Injectable()
export class RunEventsRepository implements OnModuleDestroy {
  private readonly logger = new Logger(RunEventsRepository.name);
  private listener: pg.Client | undefined;
  private readonly handlers = new Set<(event: RunEvent) => void>();
  private closed = false;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async publish(event: RunEvent): Promise<void> {
    for (const payload of this.split(event)) {
      await this.prisma.$executeRaw`SELECT pg_notify(${CHANNEL}, ${payload})`;
    }
  }

  private split(event: RunEvent): string[] {
    const whole = JSON.stringify(event);
    if (whole.length < MAX_PAYLOAD || event.type !== 'metrics') return [whole];
    const half = Math.ceil(event.points.length / 2);
    return [
      ...this.split({ ...event, points: event.points.slice(0, half) }),
      ...this.split({ ...event, points: event.points.slice(half) }),
    ];
  }

  /** Returns the unsubscribe function. The LISTEN connection opens on first use and reconnects. */
  async subscribe(handler: (event: RunEvent) => void): Promise<() => void> {
    this.handlers.add(handler);
    if (!this.listener) await this.listen();
    return () => this.handlers.delete(handler);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.config.databaseUrl });
    this.listener = client;
    client.on('notification', (message) => {
      if (!message.payload) return;
      const event = JSON.parse(message.payload) as RunEvent;
      for (const handler of this.handlers) handler(event);
    });
    const reconnect = () => {
      if (this.closed || this.listener !== client) return;
      this.listener = undefined;
      setTimeout(() => this.listen().catch((error) => this.logger.warn(`LISTEN failed: ${error.message}`)), 1000);
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      reconnect();
      throw error;
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
  }
}
