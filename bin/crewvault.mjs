#!/usr/bin/env node
// The `crewvault` command: checks the Node version, then runs the CLI bundle that
// `npm ci` / `npm run build` writes to dist/ (scripts/build.mjs).
import { existsSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`crewvault: USAGE: Node ${process.versions.node} is too old; Crewvault needs Node 22.12 or newer (source scripts/env.sh)\n`);
  process.exit(2);
}
const bundle = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('crewvault: INTERNAL: the CLI is not built yet: run "npm run build" (npm ci runs it too)\n');
  process.exit(1);
}
await import(bundle.href);
