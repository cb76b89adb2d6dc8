import { defineConfig } from 'vitest/config';

// `npm run test:integration`: the packed tarball inside the apps people build (a Next.js app built with
// Turbopack and webpack, an esbuild bundle). Slow (npm installs, `next build`), so apart from `npm test`;
// `.ci/run` runs both.
export default defineConfig({
  test: {
    include: ['tests/integration/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
