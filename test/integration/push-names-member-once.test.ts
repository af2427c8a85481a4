/**
 * A push names each member record once (#15, found by 0933ba3: "A push names an object twice").
 * The owner's two desktops each revoke someone from Ops before syncing (concurrent rotations, as
 * given-way-across-pages.test.ts); the desktop that gives way pulls in small pages and then pushes.
 * A real server (PGlite, loopback HTTP), the sync's own code, real vault files, a private Secret
 * Service. Must never: put a password in a process argument (answers go on the scripted stdin), or
 * pass while the server refused a push or the two desktops disagree about who is in Ops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamClient } from '../../electron/team/client';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce, type SyncOutcome } from '../../electron/team/sync';
import type { VaultSession } from '../../electron/vault/service';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { copyAsNewDesktop } from '../support/replica';
import { runScripted } from '../support/scripted-cli';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const BOB = 'bob';
const CAROL = 'carol';
const SERVER_PASSWORD = 'alice on the team server 1';
const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));

interface Desktop {
  readonly name: string;
  readonly file: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A server of its own and the owner's two desktops (a, and a2 a copy of it), bob and carol in Ops. */
interface Team {
  readonly server: RunningServer;
  readonly a: Desktop;
  readonly a2: Desktop;
  readonly opsId: number;
}

let keyring: PrivateKeyring;
let home: string;
const servers: RunningServer[] = [];

async function onDesktop<T>(d: Desktop, work: (session: VaultSession) => Promise<T>): Promise<T> {
  const session = await Vault.open(d.file, clock).signIn(OWNER, PASSWORD);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** `crewvault sync --json` on a desktop as the owner; fails the test on an error. */
async function sync(team: Team, d: Desktop, ...flags: string[]): Promise<void> {
  clock.advance(1_000);
  const out = await runScripted(['sync', team.server.url, '--json', '--vault', d.file, '--user', OWNER, ...flags], [PASSWORD], clock, d.env);
  expect(out.code, `${d.name}: sync: ${out.stderr}`).toBe('ok');
}

/** One sync on a desktop through the sync's own code, its pull cut into pages of `pullRecords`. */
async function syncInPages(team: Team, d: Desktop, pullRecords: number): Promise<SyncOutcome> {
  clock.advance(1_000);
  const client: TeamClient = (await keptSession(serverPlace(d.env), new URL(team.server.url).origin, () => clock.now())).client;
  return onDesktop(d, (s) => syncOnce(client, s.replica, { pullRecords }));
}

async function newTeam(tag: string): Promise<Team> {
  const dir = path.join(home, tag);
  const desktop = (name: string): Desktop => ({
    name, file: path.join(dir, `desktop-${name}.crewvault`), env: { CREWVAULT_CONFIG: path.join(dir, `config-${name}`), CREWVAULT_KEYCHAIN_SERVICE: `crewvault-member-once-${tag}-${name}` },
  });
  const dataDir = path.join(dir, 'server');
  const server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  servers.push(server);
  const [a, a2] = [desktop('a'), desktop('a2')];
  const session = await createVault(a.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await session.createUser(BOB, 'technician', 'a one-time password for bob', FAST_KDF);
  await session.createUser(CAROL, 'technician', 'a one-time password for carol', FAST_KDF);
  const ops = await session.team.createGroup('Ops');
  await session.team.grant(ops.id, BOB, false, await session.team.groupRevision(ops.id));
  await session.team.grant(ops.id, CAROL, false, await session.team.groupRevision(ops.id));
  await session.createEntries([
    { customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id },
    { customer: 'Acme', title: 'Firewall', password: 'f-1', groupId: ops.id },
  ]);
  await session.close();
  await copyAsNewDesktop(a.file, a2.file, clock);
  for (const d of [a, a2]) await onDesktop(d, (s) => s.replica.agreeAll());
  const team: Team = { server, a, a2, opsId: ops.id };
  for (const [d, args] of [[a, ['--invite-file', path.join(dataDir, 'owner-invite.txt')]], [a2, []]] as const) {
    const out = await runScripted(['login', server.url, '--user', 'alice', ...args], [SERVER_PASSWORD], clock, d.env);
    expect(out.code, `${d.name}: login: ${out.stderr}`).toBe('ok');
  }
  await sync(team, a, '--move');
  await sync(team, a2);
  return team;
}

/** Who is in Ops on a desktop, sorted. */
async function opsMembers(team: Team, d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => (await s.team.members(team.opsId)).map((m) => m.name).sort());
}

/** Both desktops hold Ops at one key version with the same key: an entry of it reads the same on each. */
async function expectOneKey(team: Team): Promise<void> {
  const read = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
  const versions = [team.a, team.a2].map((d) => {
    const file = new Database(d.file, { readonly: true });
    try {
      return file.prepare<[number], { key_version: number }>('SELECT key_version FROM access_groups WHERE id = ?').get(team.opsId)?.key_version;
    } finally {
      file.close();
    }
  });
  expect(versions[0], 'Ops key version on both desktops').toBe(versions[1]);
  expect(await read(team.a2)).toEqual(await read(team.a));
  expect(await read(team.a)).toEqual(['Firewall=f-1', 'Switch=s-1']);
}

async function revoke(team: Team, d: Desktop, who: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => s.team.revoke(team.opsId, who, await s.team.memberRevision(team.opsId, who)));
}

async function grant(team: Team, d: Desktop, who: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => { await s.team.grant(team.opsId, who, false, await s.team.groupRevision(team.opsId)); });
}

beforeAll(() => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-member-once-'));
});

afterAll(async () => {
  for (const server of servers) await server.close();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('a push names each member record once', () => {
  it.each([1, 2, 3])('gives way to another rotation with pull pages of %i record(s), then pushes its own revoke', async (pullRecords) => {
    const team = await newTeam(`pages-${pullRecords}`);
    await revoke(team, team.a2, BOB);
    await revoke(team, team.a, CAROL);
    await sync(team, team.a);
    await syncInPages(team, team.a2, pullRecords);
    await sync(team, team.a);
    await sync(team, team.a2);
    for (const d of [team.a, team.a2]) expect(await opsMembers(team, d), d.name).toEqual([OWNER]);
    await expectOneKey(team);
  }, 120_000);

  it('sends a revoke then a re-grant made before the push as the one membership it ends as', async () => {
    const team = await newTeam('regrant');
    await revoke(team, team.a, BOB);
    await grant(team, team.a, BOB);
    const sent = await onDesktop(team.a, async (s) => (await s.replica.outgoing(false, true)).batch.records.filter((r) => r.kind === 'member' && !r.revoked));
    expect(sent.length, 'the live memberships this push sends').toBeGreaterThan(0);
    await sync(team, team.a);
    await syncInPages(team, team.a2, 1);
    for (const d of [team.a, team.a2]) expect(await opsMembers(team, d), d.name).toEqual([OWNER, BOB, CAROL].sort());
    await expectOneKey(team);
  }, 120_000);

  it('takes a member removed and added back on one desktop while the other revokes someone else, pull pages of one record', async () => {
    const team = await newTeam('back');
    await revoke(team, team.a, CAROL);
    await grant(team, team.a, CAROL);
    await revoke(team, team.a, BOB);
    await sync(team, team.a);
    await syncInPages(team, team.a2, 1);
    await sync(team, team.a2);
    for (const d of [team.a, team.a2]) expect(await opsMembers(team, d), d.name).toEqual([OWNER, CAROL].sort());
    await expectOneKey(team);
  }, 120_000);

  it('keeps a re-grant made on the desktop that gives way, pull pages of one record', async () => {
    const team = await newTeam('regrant-given-way');
    await revoke(team, team.a2, BOB);
    await grant(team, team.a2, BOB);
    await revoke(team, team.a, CAROL);
    await sync(team, team.a);
    await syncInPages(team, team.a2, 1);
    await sync(team, team.a);
    for (const d of [team.a, team.a2]) expect(await opsMembers(team, d), d.name).toEqual([OWNER, BOB].sort());
    await expectOneKey(team);
  }, 120_000);
});
