import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Real databases, real child processes and real HTTP: give them room, but keep the suite bounded.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time. Most of the suite waits rather than computes (child processes starting,
    // busy timeouts, leases running out, emulator delays), and one file at a time, as vitest would run on a
    // 2-core machine, took 277 s here on 2026-11-25 against 185 s with two, near the 5-minute budget.
    maxWorkers: 2,
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
