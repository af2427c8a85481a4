/** Real vault files in a temp folder, with cheap Argon2 settings passed explicitly. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { createVault, type KdfOptions } from '../../electron/vault/vault';
import type { Clock } from '../../electron/vault/service';

export const FAST_KDF: KdfOptions = { memory: 1024, iterations: 1, parallelism: 1 };
export const OWNER = 'alice';
export const PASSWORD = 'correct horse battery staple';

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 22, 9, 0, 0)): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = start;
  return { now: () => now, set: (ms) => { now = ms; }, advance: (ms) => { now += ms; } };
}

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

export function tempFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'crewvault-test-'));
  folders.push(folder);
  return folder;
}

export function tempVaultPath(): string {
  return path.join(tempFolder(), 'team.crewvault');
}

export async function newVault(clock: Clock = manualClock()) {
  const file = tempVaultPath();
  const session = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  return { file, session, clock };
}
