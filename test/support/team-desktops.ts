/**
 * A real team server (server/main.ts on PGlite, loopback HTTP) with a private Secret Service and
 * four desktops over real vault files, built the way review round ten's tests share: the owner
 * alice (desktops a and a2, a2 a copy that stays behind), bob a technician in the group Ops (two
 * entries, Switch and Firewall) and carol in the default group only (desktops b and c); the owner
 * moves the vault onto the server, binds bob's and carol's accounts, and every desktop syncs once.
 * Used by codes-only-member-edit, demoted-member-races-demotion, revoked-member-races-revoke,
 * review-round-ten and review-ten-bind-then-demote. Registers its own beforeAll/afterAll; what it
 * holds is filled in by beforeAll, so read `server`, `opsId` and a desktop's `file` inside a test.
 * Must never put a password in a process argument (answers go on the scripted stdin).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import type { Clock, VaultSession } from '../../electron/vault/service';
import { uidText } from '../../electron/vault/ids';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { recordsAfter } from '../../server/store/sync';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { REPLICA_FORMAT } from '../../shared/sync/records';
import { startPrivateKeyring, type PrivateKeyring } from './keyring';
import { copyAsNewDesktop } from './replica';
import { runScripted, type CliOutcome } from './scripted-cli';
import { FAST_KDF, OWNER, PASSWORD } from './vault';

export const BOB = 'bob';
export const BOB_PASSWORD = 'bob keeps the switches running';
export const CAROL = 'carol';
export const CAROL_PASSWORD = 'carol joins the network team';
export const SERVER_PASSWORD = { alice: 'alice on the team server 1', bob: 'bob on the team server 22', carol: 'carol on the team server 333' } as const;
/** Each person's vault user and password. */
export const VAULT_LOGIN = { alice: [OWNER, PASSWORD], bob: [BOB, BOB_PASSWORD], carol: [CAROL, CAROL_PASSWORD] } as const;

export interface Desktop {
  readonly name: string;
  readonly file: string;
  readonly person: 'alice' | 'bob' | 'carol';
  readonly keychain: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface TeamDesktops {
  readonly server: RunningServer;
  /** The group Ops on the owner's vault (bob a member, Switch and Firewall in it). */
  readonly opsId: number;
  /** The owner's desktop, the owner's second desktop (a copy that stays behind), the technicians'. */
  readonly a: Desktop;
  readonly a2: Desktop;
  readonly b: Desktop;
  readonly c: Desktop;
  /**
   * carol's second desktop, one that joined through its first sync (a copy of the owner's file made
   * before any entry, so the sync takes the server's snapshot): set up only with `firstSyncCarol`.
   */
  readonly c2: Desktop;
  /** Signs in on a desktop's vault as its person, runs `work`, closes. */
  readonly onDesktop: <T>(d: Desktop, work: (session: VaultSession) => Promise<T>) => Promise<T>;
  /** A scripted `crewvault` command on a desktop that must answer ok. */
  readonly cli: (d: Desktop, args: readonly string[], answers: readonly string[]) => Promise<CliOutcome>;
  /** `crewvault sync --json` on a desktop as its person: the outcome, which may be an error. */
  readonly sync: (d: Desktop, ...flags: string[]) => Promise<CliOutcome>;
  /** A team client with the desktop's own signed-in session. */
  readonly teamClient: (d: Desktop) => Promise<TeamClient>;
  /** Sets an entry's password on a desktop (a second later on the clock). */
  readonly setPassword: (d: Desktop, entryPath: string, password: string) => Promise<void>;
  /** Deletes an entry on a desktop (a second later on the clock). */
  readonly deleteEntryAt: (d: Desktop, entryPath: string) => Promise<void>;
  /** Takes a code of the entry titled so on a desktop (a second later on the clock): an HOTP entry's counter steps. */
  readonly takeCode: (d: Desktop, title: string) => Promise<void>;
  /** A sync's answer on a desktop: 'ok', or its code and message. */
  readonly answer: (d: Desktop) => Promise<string>;
}

/** Why each record set aside on a desktop waits there (none: everything taken in). */
export function setAsideOn(d: Desktop): string[] {
  const db = new Database(d.file, { readonly: true });
  try {
    return (db.prepare('SELECT reason FROM replica_held').all() as Array<{ reason: string }>).map((h) => h.reason);
  } finally {
    db.close();
  }
}

/** How many group deletions made on a desktop wait there with what the team holds of their group kept (replica-group-undelete.ts). */
export function deletionsKeptOn(d: Desktop): number {
  const db = new Database(d.file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'deletion_kept:%'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** A user, group or member record as the team server stores it (its newest). */
export interface StoredPerson {
  readonly kind: string;
  readonly revision: number;
  readonly author: string;
  readonly seq: number;
}

/** The team server's user, group and member records of `d`'s vault, one a record id (the newest stored), read through its own store. */
export async function storedPeopleOn(team: TeamDesktops, d: Desktop): Promise<Map<string, StoredPerson>> {
  const vault = await team.onDesktop(d, (s) => s.replica.vaultId());
  const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
  const people = new Map<string, StoredPerson>();
  for (const row of rows) {
    const r = JSON.parse(row.body) as { kind: string; id: string; revision: number; author: string };
    if (r.kind === 'user' || r.kind === 'group' || r.kind === 'member') people.set(r.id, { kind: r.kind, revision: r.revision, author: r.author, seq: row.seq });
  }
  return people;
}

/** `prefix` names the temporary folder and the keychain services, so that test files running side by side share neither. */
/** Group `groupId`'s global id as the vault file at `file` holds it (what its records name). */
export function groupUidIn(file: string, groupId: number): string {
  return uidIn(file, 'access_groups', groupId);
}

/** An entry's global id, read from a desktop's vault file by its local id. */
export function entryUidIn(file: string, entryId: number): string {
  return uidIn(file, 'entries', entryId);
}

function uidIn(file: string, table: 'access_groups' | 'entries', id: number): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare(`SELECT uid FROM ${table} WHERE id = ?`).get(id) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

/**
 * `firstSyncCarol`: also set up `c2`, carol's desktop filled by its first sync (test/support/first-desktops.ts's way, for a member);
 * 'later': signed in on the server but not synced, so a test makes its first sync when it will.
 */
export function useTeamDesktops(prefix: string, clock: Clock & { advance(ms: number): void }, options: { readonly firstSyncCarol?: boolean | 'later' } = {}): TeamDesktops {
  const withC2 = options.firstSyncCarol === true || options.firstSyncCarol === 'later';
  let keyring: PrivateKeyring | undefined;
  let server: RunningServer | undefined;
  let home = '';
  let opsId: number | undefined;

  const running = (): RunningServer => {
    if (server === undefined) throw new Error('the team server has not started');
    return server;
  };

  // Read `home` when used: it is made in beforeAll.
  function desktop(name: string, person: 'alice' | 'bob' | 'carol'): Desktop {
    const keychain = `${prefix}-${name}`;
    return {
      name, person, keychain,
      get file() { return path.join(home, `desktop-${name}.crewvault`); },
      get env() { return { CREWVAULT_CONFIG: path.join(home, `config-${name}`), CREWVAULT_KEYCHAIN_SERVICE: keychain }; },
    };
  }
  const [a, a2, b, c, c2] = [desktop('a', 'alice'), desktop('a2', 'alice'), desktop('b', 'bob'), desktop('c', 'carol'), desktop('c2', 'carol')];

  async function onDesktop<T>(d: Desktop, work: (session: VaultSession) => Promise<T>): Promise<T> {
    const [user, password] = VAULT_LOGIN[d.person];
    const session = await Vault.open(d.file, clock).signIn(user, password);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  async function cli(d: Desktop, args: readonly string[], answers: readonly string[]): Promise<CliOutcome> {
    const out = await runScripted(args, answers, clock, d.env);
    expect(out.code, `${d.name}: crewvault ${args[0] ?? ''}: ${out.stderr}`).toBe('ok');
    return out;
  }

  async function sync(d: Desktop, ...flags: string[]): Promise<CliOutcome> {
    clock.advance(1_000);
    const [vaultUser, password] = VAULT_LOGIN[d.person];
    return runScripted(['sync', running().url, '--json', '--vault', d.file, '--user', vaultUser, ...flags], [password], clock, d.env);
  }

  async function teamClient(d: Desktop): Promise<TeamClient> {
    const url = running().url;
    const profile = new ServerProfiles(d.env.CREWVAULT_CONFIG ?? '').get(url);
    const tokens = await new SessionKeeper(keychainDeviceStore(d.keychain)).get(url, d.person);
    if (!profile || !tokens) throw new Error(`${d.name} is not signed in`);
    const client = new TeamClient(new URL(url), profile.trust, profile.deviceId);
    client.tokens = tokens;
    return client;
  }

  async function setPassword(d: Desktop, entryPath: string, password: string): Promise<void> {
    clock.advance(1_000);
    await onDesktop(d, async (s) => {
      const entry = await s.resolvePath(entryPath);
      await s.updateEntry(entry.id, { password }, entry.revision ?? -1);
    });
  }

  async function deleteEntryAt(d: Desktop, entryPath: string): Promise<void> {
    clock.advance(1_000);
    await onDesktop(d, async (s) => {
      const entry = await s.resolvePath(entryPath);
      await s.deleteEntry(entry.id, entry.revision ?? -1);
    });
  }

  async function takeCode(d: Desktop, title: string): Promise<void> {
    clock.advance(1_000);
    await onDesktop(d, async (s) => {
      const entry = (await s.listEntries()).find((e) => e.title === title);
      if (entry === undefined) throw new Error(`${title} is not on ${d.name}'s desktop`);
      await s.otpCode(entry.id);
    });
  }

  beforeAll(async () => {
    keyring = startPrivateKeyring();
    Object.assign(process.env, keyring.env);
    home = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    const dataDir = path.join(home, 'server');
    server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });

    // The owner's vault: bob a technician, in the group Ops (which holds two entries) and the default group.
    let session = await createVault(a.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    await session.createUser(BOB, 'technician', 'a one-time password for bob', FAST_KDF);
    // Carol is in the default group only.
    await session.createUser(CAROL, 'technician', 'a one-time password for carol', FAST_KDF);
    const ops = await session.team.createGroup('Ops');
    opsId = ops.id;
    await session.team.grant(ops.id, BOB, false, await session.team.groupRevision(ops.id));
    const blank = path.join(home, 'blank.crewvault');
    const ownPasswords = async (): Promise<void> => {
      const first = await Vault.open(a.file, clock).signIn(BOB, 'a one-time password for bob');
      await first.changePassword('a one-time password for bob', BOB_PASSWORD, FAST_KDF);
      await first.close();
      const carolFirst = await Vault.open(a.file, clock).signIn(CAROL, 'a one-time password for carol');
      await carolFirst.changePassword('a one-time password for carol', CAROL_PASSWORD, FAST_KDF);
      await carolFirst.close();
    };
    if (withC2) {
      // The vault before any entry, its people's passwords (and first signing keys) their own: carol's
      // first-sync desktop starts from it (no entry, no customer, nothing pulled).
      await session.close();
      await ownPasswords();
      copyFileSync(a.file, blank);
      session = await Vault.open(a.file, clock).signIn(OWNER, PASSWORD);
    }
    await session.createEntries([
      { customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id },
      { customer: 'Acme', title: 'Firewall', password: 'f-1', groupId: ops.id },
      { customer: 'Acme', title: 'Printer', password: 'p-1' },
    ]);
    await session.close();
    if (!withC2) await ownPasswords();
    for (const copy of [a2, b, c]) await copyAsNewDesktop(a.file, copy.file, clock);
    for (const d of [a, a2, b, c]) await onDesktop(d, (s) => s.replica.agreeAll());
    if (withC2) {
      await copyAsNewDesktop(blank, c2.file, clock);
      await onDesktop(c2, (s) => s.replica.agreeAll());
    }

    // Accounts on the server: the owner's (the server's first, from two desktops), bob's and carol's by the owner's invites.
    await cli(a, ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD.alice]);
    await cli(a2, ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD.alice]);
    const invite = await (await teamClient(a)).call('inviteCreate', { username: 'bob', role: 'member' });
    await cli(b, ['login', server.url, '--user', 'bob', '--invite', '-'], [invite.invite, SERVER_PASSWORD.bob]);
    const carolInvite = await (await teamClient(a)).call('inviteCreate', { username: 'carol', role: 'member' });
    await cli(c, ['login', server.url, '--user', 'carol', '--invite', '-'], [carolInvite.invite, SERVER_PASSWORD.carol]);
    if (withC2) await cli(c2, ['login', server.url, '--user', 'carol'], [SERVER_PASSWORD.carol]);

    // The owner moves the vault (its people, groups and members with it) and says which accounts are bob and carol.
    expect((await sync(a, '--move')).code).toBe('ok');
    const binding = await onDesktop(a, (s) => s.replica.accountRecord(BOB, invite.userId));
    const carolBinding = await onDesktop(a, (s) => s.replica.accountRecord(CAROL, carolInvite.userId));
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    await (await teamClient(a)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [binding, carolBinding] } });
    for (const d of [a2, b, c, ...(options.firstSyncCarol === true ? [c2] : [])]) expect((await sync(d)).code, d.name).toBe('ok');
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    keyring?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  return {
    get server() { return running(); },
    get opsId() {
      if (opsId === undefined) throw new Error('the owner\'s vault has not been made');
      return opsId;
    },
    a, a2, b, c, c2, onDesktop, cli, sync, teamClient, setPassword, deleteEntryAt, takeCode,
    answer: async (d) => {
      const out = await sync(d);
      return out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`;
    },
  };
}

/** `client`, its first push held back until `before` has run (once): another desktop's push lands between this sync's pull and its push, the sync's own code running on either side. */
export function pushingAfter(client: TeamClient, before: () => Promise<void>): TeamClient {
  const call = client.call.bind(client);
  let waiting = true;
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    if (name === 'syncPush' && waiting) {
      waiting = false;
      await before();
    }
    return call(name, input, sent);
  };
  return client;
}

/**
 * `client`, its pulls handing no record `withheld` names (what a dishonest server can do: hold a
 * record back, then hand it later or never), each page's other records and cursor as the server sent them.
 */
export function pullsWithholding(client: TeamClient, withheld: (record: ServerRouteOutput<'syncPull'>['records'][number]['record']) => boolean): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    const reply = await call(name, input, sent);
    if (name !== 'syncPull') return reply;
    const page = reply as ServerRouteOutput<'syncPull'>;
    return { ...page, records: page.records.filter((r) => !withheld(r.record)) } as ServerRouteOutput<N>;
  };
  return client;
}
