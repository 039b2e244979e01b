import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `npm run build` puts the dashboard (apps/web/build.ts): dist/web, beside dist/apps. */
export const DASHBOARD_DIR = resolve(import.meta.dirname, '..', '..', '..', '..', '..', 'web');

export function dashboardBuilt(): boolean {
  return existsSync(join(DASHBOARD_DIR, 'index.html'));
}

/**
 * The requests that get the dashboard's static shell: its pages, its bundled assets and GraphiQL for a browser
 * asking GET /graphql for HTML. They hold no data (every datum comes through GraphQL with the key), so they are
 * answered without a key: a browser cannot send one when following a link, and the page must load to ask for it.
 */
export function dashboardShellFile(method: string, path: string, accept: string | undefined): string | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (path === '/' || path === '/ui' || path.startsWith('/ui/')) return 'index.html';
  if (path.startsWith('/assets/')) return path.slice(1);
  if (path === '/graphql' && (accept ?? '').includes('text/html')) return 'graphiql.html';
  return undefined;
}
