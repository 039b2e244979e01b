import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';

import { CONTRACT_VERSION } from '#libs/core/config';
import { PrismaService } from '#libs/core/db';
import { JOB_QUEUE, type JobQueue } from '#libs/core/queue';

const TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS),
    ),
  ]);
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
  ) {}

  @Get()
  @HttpCode(200)
  async health(): Promise<{ status: 'ok'; contractVersion: number }> {
    try {
      await withTimeout(this.prisma.$queryRaw`SELECT 1`, 'the database');
      await withTimeout(this.queue.ping(), 'the queue');
    } catch (error) {
      throw new ServiceUnavailableException(`unhealthy: ${(error as Error).message}`);
    }
    return { status: 'ok', contractVersion: CONTRACT_VERSION };
  }
}
