import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Component tests (test/unit/ui-*.test.tsx) choose jsdom per file with a
    // `// @vitest-environment jsdom` comment; everything else runs in Node.
    // test/server/: crewvault server, each test on a private PostgreSQL and on PGlite.
    include: ['test/unit/**/*.test.{ts,tsx}', 'test/integration/**/*.test.ts', 'test/server/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
