/**
 * Hostile review of 0fe8992 (a revoke goes ahead of its rotation): a re-grant made while the key change
 * waits. The owner's desktop `a` revokes bob from Ops: the revoke is stored, its rotation's part lost
 * on the way (the key change waits, as a kept member writing in every window makes it wait). The
 * owner's second desktop `a2` takes the revoke in and grants bob Ops again; bob's desktop takes the
 * grant. When a's rotation landed, it was made without him (his grant, below a's unsent rotation, was
 * taken as nothing there): the server dropped him again, nobody told, and bob's desktop, handed no
 * removal at the new version, kept Ops set aside.
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
import { BOB, CAROL, groupUidIn, useTeamDesktops, type TeamDesktops } from '../support/team-desktops';
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

describe('a re-grant while a revoke waits for its key change', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 23, 0, 0));
  const team = useTeamDesktops('crewvault-regrant-behind-rotation', clock);
  const { a, a2, b, onDesktop } = team;

  it('is not undone by the rotation landing after it', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB]);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const first = await onDesktop(a, (s) => syncOnce(losingRotations(kept.client), s.replica).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error))));
    expect(first).toBe('SERVER_UNREACHABLE');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: before.version });
    // The second desktop takes the revoke in, and grants bob Ops again.
    expect(await team.answer(a2)).toBe('ok');
    expect(await opsMembersOn(team, a2)).toEqual(['alice']);
    await onDesktop(a2, async (s) => s.team.grant(team.opsId, BOB, false, await s.team.groupRevision(team.opsId)));
    const answers: string[] = [];
    for (const d of [a2, b, a, a2, b, a]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a2: ok', 'b: ok', 'a: ok', 'a2: ok', 'b: ok', 'a: ok']);
    // The key changed, and bob, granted again after his revoke, holds it.
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), a2: await opsMembersOn(team, a2), b: await holdsOps(team, b) }).toEqual({ a: ['alice', BOB], a2: ['alice', BOB], b: true });
  }, 240_000);
});
