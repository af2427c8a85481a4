/**
 * T4 beside revoke-first-manager-behind.test.ts (T3), whose header says the whole. A revoke goes ahead of its rotation, signed at the key version the server holds (electron/team/sync.ts
 * partsOf): until the rotation lands, no version bump makes a wrap of the revoked member stale. A manager
 * desktop behind the revoke (it pulled before the revoke was stored, and pushes after) could so give
 * bob the group again: with its own rotation's re-wrap (T3), or a change of his membership at the
 * version held (T4). The server names such a wrap as a conflict (server/sync/records.ts
 * membersRevokedUnseen); the desktop pulls the revoke, takes it, and pushes again without him.
 * Here the owner's desktop `a` revokes bob and its sync stops after its first part (the revoke stored,
 * the rotation's part lost on the way), while the owner's second desktop `a2` had pulled before.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { TeamClient } from '../../electron/team/client';
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

/** `client`, whose pushes after its first are lost on the way (nothing of them reaches the server). */
function losingPushesAfterFirst(client: TeamClient): TeamClient {
  const call = client.call.bind(client);
  let pushes = 0;
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    if (name === 'syncPush' && ++pushes > 1) throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server could not be reached.');
    return call(name, input, sent);
  };
  return client;
}

/** A desktop's kept session with the team server, as its app holds it (what syncOnce is given). */
async function keptClient(team: TeamDesktops, d: TeamDesktops['a'], now: () => number): Promise<TeamClient> {
  return (await keptSession(serverPlace(d.env), new URL(team.server.url).origin, now)).client;
}

/** Its sync's outcome: 'ok', or the error's code and message. */
const outcomeOf = (run: Promise<unknown>): Promise<string> => run.then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? `${error.code}: ${error.message}` : String(error)));

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

/** Ops's members as a desktop lists them, by name (none: the desktop does not hold Ops). */
async function opsMembersOn(team: TeamDesktops, d: TeamDesktops['a']): Promise<string[]> {
  return team.onDesktop(d, async (s) => {
    if (!(await s.team.listGroups()).some((g) => g.id === team.opsId)) return [];
    return (await s.team.members(team.opsId)).map((m) => m.name).sort();
  });
}

describe('a manager behind a revoke changing the member at the version held', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 16, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead', clock);
  const { a, a2, b, onDesktop } = team;

  it('does not give him the group again: refused, settled after its pull (T4)', async () => {
    const before = await opsOnServer(team);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    // Behind the revoke, the second desktop makes bob a lead of Ops: a wrap of his at the version the server holds.
    await onDesktop(a2, async (s) => s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)));
    let first = '';
    const behind = pushingAfter(await keptClient(team, a2, () => clock.now()), async () => {
      const client = losingPushesAfterFirst(await keptClient(team, a, () => clock.now()));
      first = await onDesktop(a, (s) => outcomeOf(syncOnce(client, s.replica)));
    });
    const a2Outcome = await onDesktop(a2, (s) => outcomeOf(syncOnce(behind, s.replica)));
    expect(first).toMatch(/^SERVER_UNREACHABLE/);
    expect(a2Outcome).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: before.version });
    expect(await opsMembersOn(team, a2)).toEqual(['alice']);
    // The owner's rotation lands at its next sync; bob's desktop no longer holds Ops.
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(b)).toBe('ok');
    expect(await team.answer(a2)).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 1 });
    expect(await opsMembersOn(team, b)).toEqual([]);
  }, 180_000);
});
