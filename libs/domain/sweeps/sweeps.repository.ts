import { Injectable } from '@nestjs/common';

import { Prisma, PrismaService, type Sweep as SweepRow } from '#libs/core/db';
import { afterCursor, NEWEST_FIRST, type PageQuery } from '#libs/core/pagination';

export type { SweepRow };

@Injectable()
export class SweepsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: Prisma.SweepUncheckedCreateInput): Promise<SweepRow> {
    return this.prisma.sweep.create({ data });
  }

  findById(id: string): Promise<SweepRow | null> {
    return this.prisma.sweep.findUnique({ where: { id } });
  }

  /** The newest `limit` sweeps. */
  findAll(limit: number): Promise<SweepRow[]> {
    return this.prisma.sweep.findMany({ orderBy: NEWEST_FIRST, take: limit });
  }

  /** One keyset page (take + 1 rows, the extra one says a next page exists), newest first. */
  page(query: PageQuery): Promise<SweepRow[]> {
    const where = afterCursor(query.after);
    return this.prisma.sweep.findMany({ where, orderBy: NEWEST_FIRST, take: query.take + 1 });
  }

  count(): Promise<number> {
    return this.prisma.sweep.count();
  }

  /** Every trial in trial order (the scheduler's and bestRun's view). */
  trialRuns(sweepId: string) {
    return this.prisma.run.findMany({ where: { sweepId }, orderBy: { trialIndex: 'asc' } });
  }

  /** The last `limit` trials, in trial order: Sweep.runs, capped. */
  latestTrialRuns(sweepId: string, limit: number) {
    return this.prisma.run
      .findMany({ where: { sweepId }, orderBy: { trialIndex: 'desc' }, take: limit })
      .then((runs) => runs.reverse());
  }
}
