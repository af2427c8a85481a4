/**
 * Bundles a test's child process the way scripts/build.mjs bundles the CLI (ESM for Node, native
 * modules left external, a require of its own for the CommonJS dependencies it pulls in), so a
 * real process runs the code under test as the CLI would.
 */
import { build } from 'esbuild';

/** `sourcemap`: a linked map beside it, for a child whose stack traces a test reads. */
export async function bundleChild(entry: string, outfile: string, sourcemap = false): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22.12',
    ...(sourcemap ? { sourcemap: 'linked' as const } : {}),
    external: ['better-sqlite3', 'argon2', 'keytar'],
    banner: { js: "import { createRequire as __crewvaultRequire } from 'node:module'; const require = __crewvaultRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}
