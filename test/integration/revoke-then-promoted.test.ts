/**
 * A revoke noted here and not sent yet, and the same person given the group back by a promotion
 * before the push (docs/SYNC.md "Taking people in on the desktop": a re-grant forgets the unsent
 * revoke). The owner's two desktops (test/support/rotation-desktops.ts: a real server on PGlite,
 * loopback HTTP, real files, the CLI's sync): a2 revokes bob from Ops and then makes him an admin
 * (an admin holds every group, by role: followRole wraps Ops for him again), while a revokes carol
 * and syncs first, so a2's rotation gives way and its revokes are made again (team.ts rotateAgain).
 * Before, the revoke note of bob outlived the promotion and the fresh rotation left the admin out
 * of Ops, pushed as a revoked member record: an admin without a group. A grant already forgot the
 * note (push-names-member-once); the promotion now does too. And a promotion made on the other
 * desktop (a makes bob an admin and revokes carol): rotateAgain no longer rotates out anyone who is
 * an owner or admin now, whom a revoke refuses. Lead made or unmade and a secret key
 * given by a role change need a wrap held already (never after a revoke): no note can stand there.
 * Must never: put a password in a process argument, or pass while the desktops disagree about Ops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { buildRotationDesktops, type RotationDesktop, type RotationDesktops } from '../support/rotation-desktops';
import { manualClock, OWNER } from '../support/vault';

const BOB = 'bob';
const CAROL = 'carol';
const clock = manualClock(Date.UTC(2026, 11, 1, 12, 0, 0));

let keyring: PrivateKeyring;
let home: string;
const servers: RunningServer[] = [];

/** Who is in Ops on a desktop, sorted. */
async function opsMembers(team: RotationDesktops, d: RotationDesktop): Promise<string[]> {
  return team.onDesktop(d, async (s) => (await s.team.members(team.opsId)).map((m) => m.name).sort());
}

/** `name` revoked from Ops on desktop `d` (noted there, not sent until its next sync). */
async function revokeFromOps(team: RotationDesktops, d: RotationDesktop, name: string): Promise<void> {
  await team.onDesktop(d, async (s) => s.team.revoke(team.opsId, name, await s.team.memberRevision(team.opsId, name)));
}

/** `name` made an admin on desktop `d` (an admin holds every group, by role). */
async function makeAdmin(team: RotationDesktops, d: RotationDesktop, name: string): Promise<void> {
  await team.onDesktop(d, async (s) => s.team.changeRole(name, 'admin', await s.team.userRevision(name)));
}

/**
 * a syncs first; then a2, a page at a time: its own rotation gives way to a's, and what it revoked
 * is made again by a fresh rotation (rotateAgain); then a takes that in.
 */
async function syncWithA2GivingWay(team: RotationDesktops): Promise<void> {
  await team.sync(team.a);
  await team.syncInPages(team.a2, 1);
  await team.sync(team.a2);
  await team.sync(team.a);
}

/** Both of the owner's desktops agree after the give-way: Ops is the owner's and bob's, bob is an admin, the passwords are the same. */
async function expectOpsKeptByAdminBob(team: RotationDesktops): Promise<void> {
  for (const d of [team.a, team.a2]) {
    expect(await opsMembers(team, d), d.name).toEqual([OWNER, BOB].sort());
    expect(await team.onDesktop(d, async (s) => (await s.team.listUsers()).find((u) => u.name === BOB)?.role), d.name).toBe('admin');
  }
  expect(await team.passwords(team.a2)).toEqual(await team.passwords(team.a));
}

beforeAll(() => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-revoke-promoted-'));
});

afterAll(async () => {
  for (const server of servers) await server.close();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('a revoke noted and the person given the group back by a promotion before the push', () => {
  it('is not made again after a give-way: the admin keeps the group on both desktops', async () => {
    const team = await buildRotationDesktops(path.join(home, 'promoted'), 'crewvault-revoke-promoted', clock, { members: [BOB, CAROL] });
    servers.push(team.server);
    clock.advance(1_000);
    await revokeFromOps(team, team.a2, BOB);
    clock.advance(1_000);
    await makeAdmin(team, team.a2, BOB);
    expect(await opsMembers(team, team.a2)).toEqual([OWNER, BOB, CAROL].sort());
    clock.advance(1_000);
    await revokeFromOps(team, team.a, CAROL);
    await syncWithA2GivingWay(team);
    await expectOpsKeptByAdminBob(team);
  }, 180_000);

  it('is not made again when the promotion came from the other desktop: an owner or admin is never rotated out', async () => {
    const team = await buildRotationDesktops(path.join(home, 'promoted-there'), 'crewvault-revoke-promoted-there', clock, { members: [BOB, CAROL] });
    servers.push(team.server);
    clock.advance(1_000);
    await revokeFromOps(team, team.a2, BOB);
    // On a, bob is made an admin (he keeps Ops) and carol revoked: a rotation a2's gives way to.
    clock.advance(1_000);
    await makeAdmin(team, team.a, BOB);
    clock.advance(1_000);
    await revokeFromOps(team, team.a, CAROL);
    await syncWithA2GivingWay(team);
    await expectOpsKeptByAdminBob(team);
  }, 180_000);
});
