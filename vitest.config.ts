import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  // `#libs/...` imports resolve to the TypeScript sources under the "source" condition (package.json "imports").
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // e2e files each start their own API and worker processes; two cores do not fit more at once.
    fileParallelism: false,
    pool: 'forks',
    // graphql-query-complexity must see the same graphql module as the code under test (one realm).
    server: { deps: { inline: ['graphql-query-complexity'] } },
    projects: [
      {
        extends: true,
        // *.check.ts: static checks of the Docker and Kubernetes files (no process started).
        test: {
          name: 'default',
          include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts', 'test/**/*.check.ts', 'test/**/*.e2e.ts'],
        },
      },
      {
        extends: true,
        // Domain services over their real repositories on a real PostgreSQL, in one process (npm run test:medium).
        // Each file makes its own database, so the files can share one module graph: the imports load once.
        test: { name: 'medium', include: ['test/**/*.medium.ts'], isolate: false },
      },
    ],
  },
});
