import { Injectable } from '@nestjs/common';

import { type Dataset as DatasetRow, PrismaService } from '#libs/core/db';
import { afterCursor, NEWEST_FIRST, type PageQuery } from '#libs/core/pagination';
import type { ColumnStats } from '#libs/pure/data';

export type { DatasetRow };

@Injectable()
export class DatasetsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: {
    id: string;
    name: string;
    format: string;
    sizeBytes: number;
    rowCount: number;
    columns: ColumnStats[];
    warnings: string[];
  }): Promise<DatasetRow> {
    return this.prisma.dataset.create({
      data: { ...data, sizeBytes: BigInt(data.sizeBytes), status: 'READY', columns: data.columns as object[] },
    });
  }

  findById(id: string): Promise<DatasetRow | null> {
    return this.prisma.dataset.findUnique({ where: { id } });
  }

  /** The newest `limit` datasets. */
  findAll(limit: number): Promise<DatasetRow[]> {
    return this.prisma.dataset.findMany({ orderBy: NEWEST_FIRST, take: limit });
  }

  /** One keyset page (take + 1 rows, the extra one says a next page exists), newest first. */
  page(query: PageQuery): Promise<DatasetRow[]> {
    const where = afterCursor(query.after);
    return this.prisma.dataset.findMany({ where, orderBy: NEWEST_FIRST, take: query.take + 1 });
  }

  count(): Promise<number> {
    return this.prisma.dataset.count();
  }

  /** Runs and sweeps that refer to the dataset (a sweep may exist before its first trial run). */
}
