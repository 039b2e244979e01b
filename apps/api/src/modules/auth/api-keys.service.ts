import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { AppError, isUuid } from '#libs/core/errors';

import { ApiKeysRepository } from './api-keys.repository.js';
import type { ApiKey, CreatedApiKey } from './dto/api-key.type.js';
import { API_KEY_ROLES, type ApiKeyRole, isApiKeyRole, type Principal } from './roles.js';

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(hashKey(a), 'hex');
  const right = Buffer.from(hashKey(b), 'hex');
  return timingSafeEqual(left, right);
}

/** With access control off, every caller may do everything. */
const OPEN: Principal = { keyId: null, keyHash: null, role: 'admin' };
const ROOT: Principal = { keyId: null, keyHash: null, role: 'admin' };

/** How a socket opened with a key is ended when that key is revoked. */
type CloseSocket = (code: number, reason: string) => void;

/** How often the keys of open sockets are checked for a revocation made through another API instance. */
const SOCKET_KEY_CHECK_MS = 1_000;

@Injectable()
export class ApiKeysService implements OnModuleDestroy {
  /** Open graphql-ws sockets by the id of the key that opened them, so revoking a key ends them at once. */
  private readonly socketsByKey = new Map<string, Set<CloseSocket>>();
  private readonly socketCheck = setInterval(
    () => void this.closeRevokedSockets().catch(() => undefined),
    SOCKET_KEY_CHECK_MS,
  ).unref();

  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Access control is on when API_KEY is set; keys created through the API then work beside it. */
  get enabled(): boolean {
    return this.config.apiKey !== undefined;
  }

  /** Accepts `Bearer <key>` (or the bare key) from a header or a graphql-ws connection parameter. */
  async authenticate(header: unknown): Promise<Principal | null> {
    if (!this.enabled) return OPEN;
    if (typeof header !== 'string') return null;
    const key = header.replace(/^Bearer\s+/i, '').trim();
    if (!key || key.length > 512) return null;
    if (sameSecret(key, this.config.apiKey!)) return ROOT;
    const row = await this.keys.findActiveByHash(hashKey(key));
    return row && isApiKeyRole(row.role) ? { keyId: row.id, keyHash: row.keyHash, role: row.role } : null;
  }

  /** A principal found earlier, checked again against the key's current state (it may have been revoked since). */
  async stillActive(principal: Principal): Promise<boolean> {
    if (principal.keyHash === null) return true;
    return (await this.keys.findActiveByHash(principal.keyHash)) !== null;
  }

  async isAuthorized(header: unknown): Promise<boolean> {
    return (await this.authenticate(header)) !== null;
  }

  async create(name: string, role: string = 'read'): Promise<CreatedApiKey> {
    const trimmed = name.trim(); // checked by CreateApiKeyArgs's rules
    if (!isApiKeyRole(role)) throw AppError.badInput(`role must be one of ${API_KEY_ROLES.join(', ')}, got "${role}"`);
    const key = `tk_${randomBytes(32).toString('base64url')}`;
    const row = await this.keys.create({
      id: randomUUID(),
      name: trimmed,
      keyHash: hashKey(key),
      prefix: key.slice(0, 7),
      role,
    });
    return { ...row, role: row.role as ApiKeyRole, key };
  }

  async list(): Promise<ApiKey[]> {
    return (await this.keys.findAll()).map((row) => ({ ...row, role: row.role as ApiKeyRole }));
  }

  async revoke(id: string): Promise<boolean> {
    if (!isUuid(id) || !(await this.keys.revoke(id))) throw AppError.notFound('API key', id);
    this.closeSocketsOf(id);
    return true;
  }

  onModuleDestroy(): void {
    clearInterval(this.socketCheck);
  }

  /** Closes the sockets of keys revoked elsewhere (this instance's own revocations close them at once). */
  private async closeRevokedSockets(): Promise<void> {
    if (this.socketsByKey.size === 0) return;
    for (const id of await this.keys.findRevoked([...this.socketsByKey.keys()])) this.closeSocketsOf(id);
  }

  private closeSocketsOf(id: string): void {
    for (const close of this.socketsByKey.get(id) ?? []) close(4403, 'Forbidden: the API key was revoked');
    this.socketsByKey.delete(id);
  }

  /** Remembers a socket opened with a key; the returned function forgets it when the socket closes. */
  trackSocket(principal: Principal, close: CloseSocket): () => void {
    if (principal.keyId === null) return () => undefined;
    const id = principal.keyId;
    const sockets = this.socketsByKey.get(id) ?? new Set<CloseSocket>();
    sockets.add(close);
    this.socketsByKey.set(id, sockets);
    return () => {
      sockets.delete(close);
      if (sockets.size === 0 && this.socketsByKey.get(id) === sockets) this.socketsByKey.delete(id);
    };
  }
}
