/**
 * Hostile review of 0fe8992 (a revoke goes ahead of its rotation, at the version the server holds):
 * a change of the member's membership at that version stored between the revoking desktop's pull
 * and its push. The owner's desktop `a` revokes bob from Ops; while its sync is between its pull and
 * its push, the owner's second desktop `a2` makes bob a lead of Ops and syncs. Both records carry
 * the same revision (each one above the last agreed): the server stored the revoke over the
 * making, cutting bob off, but a2 (which sent the making) and bob's desktop (which took it) read the
 * revoke as no newer than what they held and kept bob in Ops; and once the rotation landed, bob's
 * desktop, handed no removal at its version, set it aside and kept Ops for good. The server now
 * names the member record as a conflict (server/sync/records.ts membersChangedUnseen): the desktop
 * pulls the making and sends its revoke above it.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { TeamClient } from '../../electron/team/client';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { uidText } from '../../electron/vault/ids';
import { CrewvaultError } from '../../shared/errors';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { getGroup, getMembership } from '../../server/store/membership';
import { BOB, CAROL, groupUidIn, pushingAfter, useTeamDesktops, type TeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

/** A user's global id as the vault file at `file` holds it. */
function userUidIn(file: string, name: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(name) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

/** `client`, whose pushes carrying a group record (a rotation's part) are lost on the way (nothing of them reaches the server). */
function losingRotations(client: TeamClient): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    if (name === 'syncPush' && (input as ServerRouteInput<'syncPush'>).batch.records.some((r) => r.kind === 'group')) throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server could not be reached.');
    return call(name, input, sent);
  };
  return client;
}

/** Who holds Ops on the server, by name, and its key version. */
async function opsOnServer(team: TeamDesktops): Promise<{ readonly holders: string[]; readonly version: number | undefined }> {
  const { a } = team;
  const vault = await team.onDesktop(a, (s) => s.replica.vaultId());
  const ops = groupUidIn(a.file, team.opsId);
  return team.server.database.transaction(async (tx) => {
    const holders: string[] = [];
    for (const name of ['alice', BOB, CAROL]) if ((await getMembership(tx, vault, ops, userUidIn(a.file, name))) !== undefined) holders.push(name);
    return { holders, version: (await getGroup(tx, vault, ops))?.keyVersion };
  });
}

/** Whether a desktop holds Ops (lists it among its groups). */
async function holdsOps(team: TeamDesktops, d: TeamDesktops['a']): Promise<boolean> {
  return team.onDesktop(d, async (s) => (await s.team.listGroups()).some((g) => g.id === team.opsId));
}

/** Ops's members as a desktop lists them, by name (none: the desktop does not hold Ops). */
async function opsMembersOn(team: TeamDesktops, d: TeamDesktops['a']): Promise<string[]> {
  return team.onDesktop(d, async (s) => {
    if (!(await s.team.listGroups()).some((g) => g.id === team.opsId)) return [];
    return (await s.team.members(team.opsId)).map((m) => m.name).sort();
  });
}

describe('a revoke crossing a change of the member made elsewhere at the version held', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 22, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-crossing-lead', clock);
  const { a, a2, b, onDesktop } = team;

  it('goes above that change: bob is out of Ops on every desktop, before the rotation lands and after', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB]);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    await onDesktop(a2, async (s) => s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)));
    const crossed: string[] = [];
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    // The owner's first push waits for a2's sync; its rotation's part is lost on the way (it does not land yet).
    const client = pushingAfter(losingRotations(kept.client), async () => {
      for (const d of [a2, b]) crossed.push(`${d.name}: ${await team.answer(d)}`);
    });
    const first = await onDesktop(a, (s) => syncOnce(client, s.replica).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error))));
    expect(crossed).toEqual(['a2: ok', 'b: ok']);
    expect(first).toBe('SERVER_UNREACHABLE');
    // The revoke is on the server, the rotation not: bob is out there, and out on every desktop that syncs.
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: before.version });
    for (const d of [a2, b]) expect(await team.answer(d), d.name).toBe('ok');
    expect({ a2: await opsMembersOn(team, a2), b: await holdsOps(team, b) }).toEqual({ a2: ['alice'], b: false });
    // The rotation lands; everyone settles.
    const answers: string[] = [];
    for (const d of [a, a2, b, a]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'a2: ok', 'b: ok', 'a: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await holdsOps(team, b) }).toEqual({ a: ['alice'], a2: ['alice'], b: false });
  }, 240_000);
});
