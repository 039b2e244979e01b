import { Injectable } from '@nestjs/common';
import { type Dataset as DatasetRow, PrismaService } from '../../../../../libs/db/src/index.js';
import type { ColumnStats } from '../../../../../libs/datasets/src/index.js';

export type { DatasetRow };

@Injectable()
export class DatasetsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: { id: string; name: string; format: string; sizeBytes: number; rowCount: number; columns: ColumnStats[]; warnings: string[] }): Promise<DatasetRow> {
    return this.prisma.dataset.create({
      data: { ...data, sizeBytes: BigInt(data.sizeBytes), status: 'READY', columns: data.columns as object[] },
    });
  }

  findById(id: string): Promise<DatasetRow | null> {
    return this.prisma.dataset.findUnique({ where: { id } });
  }

  findByIds(ids: string[]): Promise<DatasetRow[]> {
    return this.prisma.dataset.findMany({ where: { id: { in: ids } } });
  }

  findAll(): Promise<DatasetRow[]> {
    return this.prisma.dataset.findMany({ orderBy: { createdAt: 'desc' } });
  }

  /** Runs and sweeps that refer to the dataset (a sweep may exist before its first trial run). */
}
