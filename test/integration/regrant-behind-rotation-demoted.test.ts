/**
 * As regrant-behind-rotation.test.ts, the member demoted on the rotating desktop too (hostile review of
 * grantedUnderOwnRotation, its sibling regrantedOverStoredRevoke): the owner's desktop `a` revokes bob from Ops, the
 * revoke stored, its rotation lost on the way; `a` then makes bob an auditor (a role holding no secret key), not sent.
 * The owner's second desktop `a2`, holding bob a technician still, grants him Ops again with its secret key. `a`'s
 * rotation carries him, the list key only: wrapped as the grant did, it gave an auditor the group's new secret key.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { CrewvaultError } from '../../shared/errors';
import { BOB, type Desktop, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { losingRotations, opsOnServer } from '../support/revoke-first';

/** Bob's wraps of group `groupId` in `d`'s file: key version, and whether a secret key is wrapped with it. */
function bobsWrapsIn(d: Desktop, groupId: number): string[] {
  const db = new Database(d.file, { readonly: true });
  try {
    const rows = db.prepare('SELECT gk.key_version AS v, gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND u.name = ?').all(groupId, BOB) as Array<{ v: number; secret: number }>;
    return rows.map((r) => `${r.v}${r.secret === 1 ? '+secret' : ''}`);
  } finally {
    db.close();
  }
}

describe('a re-grant while a revoke waits, of someone demoted there since', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 15, 0, 0));
  const team = useTeamDesktops('crewvault-regrant-behind-rotation-demoted', clock);
  const { a, a2, onDesktop } = team;

  it('wraps him the list key alone at the rotation\'s version', async () => {
    const before = await opsOnServer(team);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const first = await onDesktop(a, (s) => syncOnce(losingRotations(kept.client), s.replica).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error))));
    expect(first).toBe('SERVER_UNREACHABLE');
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'auditor', await s.team.userRevision(BOB)));
    expect(await team.answer(a2)).toBe('ok');
    await onDesktop(a2, async (s) => s.team.grant(team.opsId, BOB, false, await s.team.groupRevision(team.opsId)));
    expect(await team.answer(a2)).toBe('ok');
    expect(bobsWrapsIn(a2, team.opsId)).toEqual([`${before.version ?? 0}+secret`]);
    expect(await team.answer(a)).toBe('ok');
    expect(bobsWrapsIn(a, team.opsId)).toEqual([`${(before.version ?? 0) + 1}`]);
  }, 240_000);
});
