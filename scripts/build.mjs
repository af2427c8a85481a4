// Builds what runs outside the source tree: the CLI bundle (dist/cli.mjs), the Electron main
// process and preload (dist/electron/), and the benches (dist/bench*.mjs). Native modules stay
// external: they are loaded from node_modules at run time.
// First: under a Node too old for Crewvault, one line saying to source scripts/env.sh.
import './check-node.mjs';
import { build } from 'esbuild';
import { build as buildRenderer } from 'vite';
import { readFileSync } from 'node:fs';

// Always React's production build and JSX: vitest's global setup runs this script with
// NODE_ENV=test, which Vite would follow into React's development build (effects run twice
// under StrictMode, dev-only checks: several times slower on 100,000 entries).
process.env.NODE_ENV = 'production';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// The server's database drivers and OPAQUE load their WebAssembly and data files from beside
// their own modules, so they stay in node_modules too.
const external = ['better-sqlite3', 'argon2', 'keytar', 'electron', 'pg', '@electric-sql/pglite', '@serenity-kit/opaque', 'fastify'];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node22.12',
  sourcemap: 'linked',
  external,
  logLevel: 'warning',
  define: { CREWVAULT_VERSION: JSON.stringify(version) },
};
// ESM bundles that pull in CommonJS dependencies need a require of their own.
const esmBanner = { js: "import { createRequire as __crewvaultRequire } from 'node:module'; const require = __crewvaultRequire(import.meta.url);" };

await Promise.all([
  // The CLI, split: `serve` (router, contract, zod) is a chunk of its own, loaded only when it
  // runs, so `crewvault otp` starts without it. Chunks sit beside cli.mjs (and dist/renderer/).
  build({
    ...common, entryPoints: { cli: 'electron/cli/entry.ts' }, outdir: 'dist', splitting: true, chunkNames: 'cli-[name]-[hash]',
    outExtension: { '.js': '.mjs' }, format: 'esm', banner: esmBanner,
  }),
  build({ ...common, entryPoints: ['test/bench/index.ts'], outfile: 'dist/bench.mjs', format: 'esm', banner: esmBanner }),
  build({ ...common, external: [...external, '@playwright/test', 'playwright-core'], entryPoints: ['test/bench/ui.ts'], outfile: 'dist/bench-ui.mjs', format: 'esm', banner: esmBanner }),
  build({ ...common, entryPoints: ['test/bench/server.ts'], outfile: 'dist/bench-server.mjs', format: 'esm', banner: esmBanner }),
  build({ ...common, entryPoints: ['test/bench/sync.ts'], outfile: 'dist/bench-sync.mjs', format: 'esm', banner: esmBanner }),
  // A first sync measured again and again from one prepared vault (test/bench/first-sync-fixture.ts).
  build({ ...common, entryPoints: ['test/bench/first-sync-fixture.ts'], outfile: 'dist/bench-first-sync.mjs', format: 'esm', banner: esmBanner }),
  build({ ...common, entryPoints: ['electron/main.ts'], outfile: 'dist/electron/main.cjs', format: 'cjs' }),
  build({ ...common, entryPoints: ['electron/preload.ts'], outfile: 'dist/electron/preload.cjs', format: 'cjs' }),
  // The renderer: relative asset paths so the same build loads from file:// (Electron) and
  // from the browser host; no inline scripts, so the strict CSP holds.
  buildRenderer({
    root: 'renderer',
    base: './',
    logLevel: 'warn',
    configFile: false,
    build: { outDir: '../dist/renderer', emptyOutDir: true, modulePreload: { polyfill: false }, sourcemap: true, chunkSizeWarningLimit: 1024 },
  }),
]);
