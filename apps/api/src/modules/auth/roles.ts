/**
 * What each key may do. `admin` manages keys and deletes; `write` adds uploads, models, runs and sweeps and cancels
 * them; `read` queries, subscribes, downloads and predicts. Each role includes the ones below it. API_KEY is admin.
 */
export const API_KEY_ROLES = ['admin', 'write', 'read'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

const RANK: Record<ApiKeyRole, number> = { read: 1, write: 2, admin: 3 };

export function roleAllows(have: ApiKeyRole, need: ApiKeyRole): boolean {
  return RANK[have] >= RANK[need];
}

export function isApiKeyRole(value: unknown): value is ApiKeyRole {
  return typeof value === 'string' && (API_KEY_ROLES as readonly string[]).includes(value);
}

/** Who sent a request: the key's id (null for API_KEY itself, or when access control is off) and its role. */
export interface Principal {
  keyId: string | null;
  keyHash: string | null;
  role: ApiKeyRole;
}

/**
 * The role each GraphQL mutation needs. A mutation missing here needs admin (closed by default), and the roles
 * e2e test fails for any mutation of the served schema that is not listed, so a new one is placed on purpose.
 * Queries and subscriptions need read, but for ROLE_BY_QUERY's.
 */
export const ROLE_BY_MUTATION: Record<string, ApiKeyRole> = Object.assign(Object.create(null), {
  createApiKey: 'admin',
  revokeApiKey: 'admin',
  deleteDataset: 'admin',
  deleteRun: 'admin',
  deleteSweep: 'admin',
  deleteModel: 'admin',
  createModel: 'write',
  startRun: 'write',
  cancelRun: 'write',
  createSweep: 'write',
  cancelSweep: 'write',
});

/** Queries that need more than read: the list of keys is key management. */
export const ROLE_BY_QUERY: Record<string, ApiKeyRole> = Object.assign(Object.create(null), { apiKeys: 'admin' });

export function roleForOperation(operation: 'query' | 'mutation' | 'subscription', field: string): ApiKeyRole {
  if (operation === 'query') return Object.hasOwn(ROLE_BY_QUERY, field) ? ROLE_BY_QUERY[field] : 'read';
  if (operation === 'subscription') return 'read';
  return Object.hasOwn(ROLE_BY_MUTATION, field) ? ROLE_BY_MUTATION[field] : 'admin';
}

/** The role each REST route needs, by method and path; a route missing here needs admin. */
const ROLE_BY_ROUTE: [method: string, path: RegExp, role: ApiKeyRole][] = [
  ['POST', /^\/v1\/datasets\/?$/, 'write'],
  ['GET', /^\/v1\/datasets\/[^/]+\/download$/, 'read'],
  ['GET', /^\/v1\/checkpoints\/[^/]+\/(model\.json|weights\.bin)$/, 'read'],
  ['GET', /^\/metrics$/, 'read'],
  ['GET', /^\/v1\/layers\.js$/, 'read'],
  ['GET', /^\/(ui(\/.*)?)?$/, 'read'],
  ['GET', /^\/assets\//, 'read'],
  // GraphQL over HTTP: each operation's fields are checked by the roles guard; a read key may send queries.
  ['POST', /^\/graphql$/, 'read'],
  ['GET', /^\/graphql$/, 'read'],
];

export function roleForRoute(method: string, path: string): ApiKeyRole {
  const verb = method === 'HEAD' ? 'GET' : method;
  for (const [routeMethod, pattern, role] of ROLE_BY_ROUTE) if (routeMethod === verb && pattern.test(path)) return role;
  return 'admin';
}
