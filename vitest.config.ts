import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const apiTests = ['apps/server/test/**/*.test.ts'];

export default defineConfig({
  test: {
    // Two files at once even on a 2-core machine (vitest's default there is one): most of the
    // suite waits on PostgreSQL, child processes and Chromium rather than on its own CPU.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['packages/*/src/**/*.test.ts', 'apps/server/src/**/*.test.ts'] } },
      { extends: true, test: { name: 'api-sqlite', include: apiTests, env: { KEYSMITH_TEST_DB: 'sqlite' } } },
      // The same API suite against a real PostgreSQL; it fails, never skips, when PostgreSQL is down.
      { extends: true, test: { name: 'api-postgres', include: apiTests, env: { KEYSMITH_TEST_DB: 'postgres' }, globalSetup: ['apps/server/test/pg-global-setup.ts'] } },
      {
        extends: true,
        plugins: [react()],
        test: {
          name: 'dashboard',
          include: ['apps/dashboard/src/**/*.test.tsx', 'apps/dashboard/src/**/*.test.ts'],
          environment: 'jsdom',
          setupFiles: ['apps/dashboard/src/test/setup.ts'],
        },
      },
      // Real Chromium against the real server; needs /usr/bin/chromium (apt-get install chromium).
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['apps/dashboard/e2e/**/*.test.ts'],
          globalSetup: ['apps/dashboard/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
