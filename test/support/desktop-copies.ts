// Desktops made from copies of one vault file, for vitest tests that take received events by hand
// (device-identity, v1-events-desktop): a copy in its own temporary folder that is a device of its
// own, and the signer a signed-in session holds. Needs vitest (tempFolder's clean-up), so not for
// e2e or bench code (they use replica.ts). Test support only; must never print a key.
import path from 'node:path';
import type { Clock, VaultSession } from '../../electron/vault/service';
import type { Signer } from '../../electron/vault/signing';
import { copyAsNewDesktop } from './replica';
import { tempFolder } from './vault';

/** A copy of `file` named `name` in a fresh temporary folder, made a device of its own: its path. */
export async function copyAsDevice(file: string, name: string, clock: Clock): Promise<string> {
  const copy = path.join(tempFolder(), `${name}.crewvault`);
  await copyAsNewDesktop(file, copy, clock);
  return copy;
}

/** The signer `session` holds (its key ring's), read from outside as a test that re-signs by hand needs it. */
export function signerOf(session: VaultSession): Signer {
  const signer = (session as unknown as { ring: { signer: Signer | undefined } }).ring.signer;
  if (signer === undefined) throw new Error('nobody signs here');
  return signer;
}
