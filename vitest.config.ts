import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    setupFiles: ['test/harness/worker-setup.ts'],
    pool: 'forks',
    // Suites mostly wait on the database: a worker per core keeps both busy (vitest's default on a
    // 2-core machine is one worker, which put the run past five minutes).
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/harness/summary-reporter.ts'],
  },
});
