// Shared set-up of the first-sync tests (first-sync, first-sync-indexes, record-batches,
// history-later, history-background): a real team server (PGlite, real HTTP on loopback) in a
// folder of the test's, the owner's vault moved there holding the entries given, an empty copy of
// that vault kept from before any entry, and new desktops made from that copy; useFirstDesktops
// builds that world once for a test file (its own beforeAll/afterAll). Test support only; must
// never print a password or a secret (passwords travel as arguments of in-process calls, never of
// a process).
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll } from 'vitest';
import { TeamClient } from '../../electron/team/client';
import { syncOnce } from '../../electron/team/sync';
import type { Clock, VaultSession } from '../../electron/vault/service';
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

export const FIRST_SERVER_PASSWORD = 'alice on the team server 1';

export interface FirstSetUp {
  /** How many entries the owner's vault holds: `Customer ${i % customers}` / `Entry ${i}` / `pw-${i}`. */
  readonly entries: number;
  readonly customers: number;
  /** The owner's client's device id on the server. */
  readonly deviceId: string;
  /** beforeAll's time limit (ms); 120 s unless said. */
  readonly timeout?: number;
}

export interface FirstDesktops {
  /** The test's folder (made in beforeAll). */
  readonly home: string;
  readonly server: RunningServer;
  /** The owner's vault, moved to the server. */
  readonly ownerFile: string;
  /** The owner's vault before any entry. */
  readonly blank: string;
  /** The owner's client, signed in. */
  readonly client: TeamClient;
  /** Signs in on a vault file as the owner. */
  readonly signIn: (file: string) => Promise<VaultSession>;
  /** A new desktop in `home` (`name`.crewvault, or desktop-N.crewvault): see newDesktopFrom. */
  readonly newDesktop: (name?: string) => Promise<string>;
  /** The ids of the events the server stores (hex, no dashes). */
  readonly serverEventIds: () => Promise<string[]>;
}

/** The world of ownerMovedToServer built once for the test file in a temporary folder named by `prefix`. */
export function useFirstDesktops(prefix: string, clock: Clock, setUp: FirstSetUp): FirstDesktops {
  let home = '';
  let world: { server: RunningServer; ownerFile: string; blank: string; client: TeamClient } | undefined;
  let devices = 0;
  const built = (): NonNullable<typeof world> => {
    if (world === undefined) throw new Error('the first-sync world has not been built');
    return world;
  };
  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    const entries = Array.from({ length: setUp.entries }, (_, i) => ({ customer: `Customer ${i % setUp.customers}`, title: `Entry ${i}`, password: `pw-${i}` }));
    world = await ownerMovedToServer(home, clock, entries, FIRST_SERVER_PASSWORD, setUp.deviceId);
  }, setUp.timeout ?? 120_000);
  afterAll(async () => {
    await world?.server.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });
  return {
    get home() { return home; },
    get server() { return built().server; },
    get ownerFile() { return built().ownerFile; },
    get blank() { return built().blank; },
    get client() { return built().client; },
    signIn: (file) => Vault.open(file, clock).signIn(OWNER, PASSWORD),
    newDesktop: (name) => newDesktopFrom(built().blank, path.join(home, `${name ?? `desktop-${devices++}`}.crewvault`), clock),
    serverEventIds: async () => {
      const rows = await built().server.database.query("SELECT record_id FROM sync_records WHERE kind = 'event'");
      return rows.map((r) => String(r.record_id).replaceAll('-', '').toLowerCase());
    },
  };
}

/** The event ids a vault file's log holds (hex), read beside any open session. */
export function eventIdsIn(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { id: string }>('SELECT lower(hex(uid)) AS id FROM audit_log').all().map((r) => r.id);
  } finally {
    db.close();
  }
}

/** Each entry a session lists as `customer/title/password`, sorted. */
export async function listing(session: VaultSession): Promise<string[]> {
  const out: string[] = [];
  for (const row of await session.listEntries()) out.push(`${row.customer}/${row.title}/${await session.revealPassword(row.id)}`);
  return out.sort();
}
