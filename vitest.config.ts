import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The slow ones have their own config (vitest.integration.config.ts, `npm run test:integration`).
    exclude: ['tests/integration/**', '**/node_modules/**'],
    // Real databases, real child processes and real HTTP: give them room, but keep the suite bounded.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A worker runs file after file without reloading the modules they share (src/, Kysely, the drivers):
    // measured here, the suite needs about a quarter less CPU. So a test file restores whatever process-wide
    // state it changes (process.env, listeners on process, the token-request gate) before it ends.
    isolate: false,
    // Bundles the CLI once for the whole run (about 330 CLI processes start from it).
    globalSetup: ['./tests/support/global-setup.ts'],
    // Three test files at a time, though vitest would pick one on a 2-core machine: most of the suite waits
    // rather than computes (child processes starting, busy timeouts, leases running out, emulator delays), so
    // more files use the waiting time and keep the suite inside its 5-minute budget.
    maxWorkers: 3,
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
