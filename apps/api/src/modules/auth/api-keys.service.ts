import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../../../libs/config/src/index.js';
import { AppError, isUuid } from '../../platform/app-error.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import type { ApiKey, CreatedApiKey } from './dto/api-key.type.js';

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(hashKey(a), 'hex');
  const right = Buffer.from(hashKey(b), 'hex');
  return timingSafeEqual(left, right);
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Access control is on when API_KEY is set; keys created through the API then work beside it. */
  get enabled(): boolean {
    return this.config.apiKey !== undefined;
  }

  /** Accepts `Bearer <key>` (or the bare key) from a header or a graphql-ws connection parameter. */
  async isAuthorized(header: unknown): Promise<boolean> {
    if (!this.enabled) return true;
    if (typeof header !== 'string') return false;
    const key = header.replace(/^Bearer\s+/i, '').trim();
    if (!key) return false;
    if (sameSecret(key, this.config.apiKey!)) return true;
    return (await this.keys.findActiveByHash(hashKey(key))) !== null;
  }

  async create(name: string): Promise<CreatedApiKey> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 200) throw AppError.badInput('name must be 1 to 200 characters');
    const key = `tk_${randomBytes(32).toString('base64url')}`;
    const row = await this.keys.create({ id: randomUUID(), name: trimmed, keyHash: hashKey(key), prefix: key.slice(0, 7) });
    return { ...row, key };
  }

  list(): Promise<ApiKey[]> {
    return this.keys.findAll();
  }

  async revoke(id: string): Promise<boolean> {
    if (!isUuid(id) || !(await this.keys.revoke(id))) throw AppError.notFound('API key', id);
    return true;
  }
}
