import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, type Sweep as SweepRow } from '../../../../../libs/db/src/index.js';

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

  findAll(): Promise<SweepRow[]> {
    return this.prisma.sweep.findMany({ orderBy: { createdAt: 'desc' } });
  }

  trialRuns(sweepId: string) {
    return this.prisma.run.findMany({ where: { sweepId }, orderBy: { trialIndex: 'asc' } });
  }
}
