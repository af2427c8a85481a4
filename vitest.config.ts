import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Component tests (test/unit/ui-*.test.tsx) choose jsdom per file with a
    // `// @vitest-environment jsdom` comment; everything else runs in Node.
    // test/server/: crewvault server, each test on a private PostgreSQL and on PGlite.
    include: ['test/unit/**/*.test.{ts,tsx}', 'test/integration/**/*.test.ts', 'test/server/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    // Set-up hooks start real processes (the CLI, servers, PostgreSQL) as tests do, so they get the
    // same bound: vitest's default of 10 s for hooks failed cli-backup's four-process beforeEach on
    // a loaded 2-core machine while the tests beside it had 30 s.
    hookTimeout: 30_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
