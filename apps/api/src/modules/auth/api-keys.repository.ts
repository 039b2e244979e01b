import { Injectable } from '@nestjs/common';

import { type ApiKey as ApiKeyRow, PrismaService } from '#libs/core/db';

export type { ApiKeyRow };

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: { id: string; name: string; keyHash: string; prefix: string; role: string }): Promise<ApiKeyRow> {
    return this.prisma.apiKey.create({ data });
  }

  findActiveByHash(keyHash: string): Promise<ApiKeyRow | null> {
    return this.prisma.apiKey.findFirst({ where: { keyHash, revokedAt: null } });
  }

  findAll(): Promise<ApiKeyRow[]> {
    return this.prisma.apiKey.findMany({ orderBy: { createdAt: 'desc' } });
  }

  /** Of these key ids, the ones revoked (by any API instance). */
  async findRevoked(ids: string[]): Promise<string[]> {
    const rows = await this.prisma.apiKey.findMany({
      where: { id: { in: ids }, revokedAt: { not: null } },
      select: { id: true },
    });
    return rows.map((row) => row.id);
  }

  async revoke(id: string): Promise<boolean> {
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return count > 0;
  }
}
