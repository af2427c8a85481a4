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
import type { RunningServer } from '../../server/main';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { buildRotationDesktops, type RotationDesktop, type RotationDesktops } from '../support/rotation-desktops';
import { manualClock, OWNER } from '../support/vault';

const BOB = 'bob';
const CAROL = 'carol';
const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));

/** A server of its own and the owner's two desktops (a, and a2 a copy of it), bob and carol in Ops. */
type Team = RotationDesktops;

let keyring: PrivateKeyring;
let home: string;
const servers: RunningServer[] = [];

async function newTeam(tag: string): Promise<Team> {
  const team = await buildRotationDesktops(path.join(home, tag), `crewvault-member-once-${tag}`, clock, { members: [BOB, CAROL] });
  servers.push(team.server);
  return team;
}

/** Who is in Ops on a desktop, sorted. */
async function opsMembers(team: Team, d: RotationDesktop): Promise<string[]> {
  return team.onDesktop(d, async (s) => (await s.team.members(team.opsId)).map((m) => m.name).sort());
}

/** Both desktops hold Ops at one key version with the same key: an entry of it reads the same on each. */
async function expectOneKey(team: Team): Promise<void> {
  const versions = [team.a, team.a2].map((d) => {
    const file = new Database(d.file, { readonly: true });
    try {
      return file.prepare<[number], { key_version: number }>('SELECT key_version FROM access_groups WHERE id = ?').get(team.opsId)?.key_version;
    } finally {
      file.close();
    }
  });
  expect(versions[0], 'Ops key version on both desktops').toBe(versions[1]);
  expect(await team.passwords(team.a2)).toEqual(await team.passwords(team.a));
  expect(await team.passwords(team.a)).toEqual(['Firewall=f-1', 'Switch=s-1']);
}

async function revoke(team: Team, d: RotationDesktop, who: string): Promise<void> {
  clock.advance(1_000);
  await team.onDesktop(d, async (s) => s.team.revoke(team.opsId, who, await s.team.memberRevision(team.opsId, who)));
}

async function grant(team: Team, d: RotationDesktop, who: string): Promise<void> {
  clock.advance(1_000);
  await team.onDesktop(d, async (s) => { await s.team.grant(team.opsId, who, false, await s.team.groupRevision(team.opsId)); });
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
    await team.sync(team.a);
    await team.syncInPages(team.a2, pullRecords);
    await team.sync(team.a);
    await team.sync(team.a2);
    for (const d of [team.a, team.a2]) expect(await opsMembers(team, d), d.name).toEqual([OWNER]);
    await expectOneKey(team);
  }, 120_000);

  it('sends a revoke then a re-grant made before the push as the one membership it ends as', async () => {
    const team = await newTeam('regrant');
    await revoke(team, team.a, BOB);
    await grant(team, team.a, BOB);
    const sent = await team.onDesktop(team.a, async (s) => (await s.replica.outgoing(false, true)).batch.records.filter((r) => r.kind === 'member' && !r.revoked));
    expect(sent.length, 'the live memberships this push sends').toBeGreaterThan(0);
    await team.sync(team.a);
    await team.syncInPages(team.a2, 1);
    for (const d of [team.a, team.a2]) expect(await opsMembers(team, d), d.name).toEqual([OWNER, BOB, CAROL].sort());
    await expectOneKey(team);
  }, 120_000);

  it('takes a member removed and added back on one desktop while the other revokes someone else, pull pages of one record', async () => {
    const team = await newTeam('back');
    await revoke(team, team.a, CAROL);
    await grant(team, team.a, CAROL);
    await revoke(team, team.a, BOB);
    await team.sync(team.a);
    await team.syncInPages(team.a2, 1);
    await team.sync(team.a2);
    for (const d of [team.a, team.a2]) expect(await opsMembers(team, d), d.name).toEqual([OWNER, CAROL].sort());
    await expectOneKey(team);
  }, 120_000);

  it('keeps a re-grant made on the desktop that gives way, pull pages of one record', async () => {
    const team = await newTeam('regrant-given-way');
    await revoke(team, team.a2, BOB);
    await grant(team, team.a2, BOB);
    await revoke(team, team.a, CAROL);
    await team.sync(team.a);
    await team.syncInPages(team.a2, 1);
    await team.sync(team.a);
    for (const d of [team.a, team.a2]) expect(await opsMembers(team, d), d.name).toEqual([OWNER, BOB].sort());
    await expectOneKey(team);
  }, 120_000);
});
