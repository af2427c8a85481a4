// Tests that run the real `crewvault` binary need a fresh build of it: build once per run.
// The crash and concurrency tests also need their child process, test/support/vault-writer.ts,
// bundled the way scripts/build.mjs bundles the CLI (native modules left external).
import { execFileSync } from 'node:child_process';
import { bundleChild } from './bundle-child';

export default async function setup(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  await bundleChild('test/support/vault-writer.ts', 'dist/test/vault-writer.mjs', true);
}
