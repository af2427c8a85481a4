/** Runs the real `crewvault` binary (bin/crewvault.mjs on this Node) as a user would. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const BIN = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');

export function crewvault(args: readonly string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, ...options.env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A new vault made by the real `crewvault init` (fast key derivation) in a new temp folder; `alice` its owner. */
export function initCliVault(password: string, makeFolder: () => string): { readonly folder: string; readonly vault: string } {
  const folder = makeFolder();
  const vault = path.join(folder, 'team.crewvault');
  const made = crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${password}\n` });
  if (made.status !== 0) throw new Error(`crewvault init failed: ${made.stderr}`);
  return { folder, vault };
}
