// Tests that run the real `crewvault` binary need a fresh build of it: build once per run.
// The crash and concurrency tests also need their child process, test/support/vault-writer.ts,
// bundled the way scripts/build.mjs bundles the CLI (native modules left external).
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

// ESM bundles that pull in CommonJS dependencies need a require of their own.
const esmBanner = { js: "import { createRequire as __crewvaultRequire } from 'node:module'; const require = __crewvaultRequire(import.meta.url);" };

export default async function setup(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  await build({
    entryPoints: ['test/support/vault-writer.ts'],
    outfile: 'dist/test/vault-writer.mjs',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22.12',
    sourcemap: 'linked',
    external: ['better-sqlite3', 'argon2', 'keytar'],
    banner: esmBanner,
    logLevel: 'warning',
  });
}
