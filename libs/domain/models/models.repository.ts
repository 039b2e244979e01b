import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import { type ModelDefinition as ModelRow, Prisma, PrismaService } from '#libs/core/db';
import { afterCursor, NEWEST_FIRST, type PageQuery } from '#libs/core/pagination';

export type { ModelRow };

@Injectable()
export class ModelsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Adds the next version of a name. Two creations racing for the same version collide on the
   * (name, version) key; the loser retries with the version after.
   */
  async createVersion(name: string, spec: unknown): Promise<ModelRow> {
    for (let attempt = 0; ; attempt++) {
      const latest = await this.prisma.modelDefinition.aggregate({ where: { name }, _max: { version: true } });
      try {
        return await this.prisma.modelDefinition.create({
          data: {
            id: randomUUID(),
            name,
            version: (latest._max.version ?? 0) + 1,
            spec: spec as Prisma.InputJsonValue,
          },
        });
      } catch (error) {
        if (attempt < 5 && error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') continue;
        throw error;
      }
    }
  }

  findById(id: string): Promise<ModelRow | null> {
    return this.prisma.modelDefinition.findUnique({ where: { id } });
  }

  /** The newest `limit` model versions. */
  findAll(limit: number): Promise<ModelRow[]> {
    return this.prisma.modelDefinition.findMany({ orderBy: NEWEST_FIRST, take: limit });
  }

  /** One keyset page (take + 1 rows, the extra one says a next page exists), newest first. */
  page(query: PageQuery): Promise<ModelRow[]> {
    const where = afterCursor(query.after);
    return this.prisma.modelDefinition.findMany({ where, orderBy: NEWEST_FIRST, take: query.take + 1 });
  }

  count(): Promise<number> {
    return this.prisma.modelDefinition.count();
  }
}
