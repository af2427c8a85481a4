// Shared set-up of the first-sync tests (first-sync, record-batches): a real team server (PGlite,
// real HTTP on loopback) in a folder of the test's, the owner's vault moved there holding the
// entries given, an empty copy of that vault kept from before any entry, and new desktops made
// from that copy. Test support only; must never print a password or a secret (passwords travel
// as arguments of in-process calls, never of a process).
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TeamClient } from '../../electron/team/client';
import { syncOnce } from '../../electron/team/sync';
import type { Clock } from '../../electron/vault/service';
import { renewDeviceId } from '../../electron/vault/store-signing';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import type { EntryInput } from '../../shared/model';
import { FAST_KDF, OWNER, PASSWORD } from './vault';

/**
 * A server in `home`/server; the owner's vault at `home`/owner.crewvault, copied empty to
 * `home`/blank.crewvault, then given `entries` and moved to the server by a client registered
 * with the owner invite (as OWNER, `serverPassword`) on device `deviceId`.
 */
export async function ownerMovedToServer(home: string, clock: Clock, entries: readonly EntryInput[], serverPassword: string, deviceId: string): Promise<{ server: RunningServer; ownerFile: string; blank: string; client: TeamClient }> {
  const server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  const ownerFile = path.join(home, 'owner.crewvault');
  const created = await createVault(ownerFile, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await created.close();
  const blank = path.join(home, 'blank.crewvault');
  copyFileSync(ownerFile, blank);
  const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
  await owner.replica.agreeAll();
  await owner.createEntries(entries);
  const client = new TeamClient(new URL(server.url), { kind: 'loopback' }, deviceId);
  await client.register(readFileSync(path.join(home, 'server', 'owner-invite.txt'), 'utf8').trim(), OWNER, serverPassword, undefined);
  await client.login(OWNER, serverPassword);
  await syncOnce(client, owner.replica, { move: true });
  await owner.close();
  return { server, ownerFile, blank, client };
}

/** A new desktop at `file`: a copy of `blank` (the vault before any entry), a device of its own, everything agreed. */
export async function newDesktopFrom(blank: string, file: string, clock: Clock): Promise<string> {
  copyFileSync(blank, file);
  const opened = Vault.open(file, clock);
  await opened.store.write((w) => renewDeviceId(w));
  await opened.close();
  const session = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
  await session.replica.agreeAll();
  await session.close();
  return file;
}
