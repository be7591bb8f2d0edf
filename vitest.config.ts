import { defineConfig } from 'vitest/config';

const apiTests = ['apps/server/test/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['packages/*/src/**/*.test.ts', 'apps/server/src/**/*.test.ts'] } },
      { extends: true, test: { name: 'api-sqlite', include: apiTests, env: { KEYSMITH_TEST_DB: 'sqlite' } } },
      // The same API suite against a real PostgreSQL; it fails, never skips, when PostgreSQL is down.
      { extends: true, test: { name: 'api-postgres', include: apiTests, env: { KEYSMITH_TEST_DB: 'postgres' } } },
    ],
  },
});
