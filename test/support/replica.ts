/**
 * Another desktop made from a copy of a vault file: the copy becomes a device of its own (a new
 * device id) before anyone signs in there, else both files would chain their audit events as
 * one device's (docs/SYNC.md, "Starting a replica").
 */
import { copyFileSync } from 'node:fs';
import type { Clock } from '../../electron/vault/service';
import { renewDeviceId } from '../../electron/vault/store-signing';
import { Vault } from '../../electron/vault/vault';

export async function copyAsNewDesktop(file: string, copy: string, clock?: Clock): Promise<void> {
  copyFileSync(file, copy);
  const opened = Vault.open(copy, clock);
  try {
    await opened.store.write((w) => renewDeviceId(w));
  } finally {
    await opened.close();
  }
}
