/**
 * Hostile review of 0fe8992 (a revoke goes ahead of its rotation, signed at the version the server
 * holds): after a give-way, the desktop signed its revoke at a version the server had left behind.
 * The owner's second desktop `a2` revokes carol from Ops and syncs (Ops moves to the next key
 * version, bob wrapped at it); bob's desktop takes that version in. The owner's desktop `a`, behind
 * all of it, revokes bob: its sync gives way to a2's rotation and rotates again without bob. Its
 * revoke went ahead, signed at the lowest version it had rotated from (replica-people.ts
 * agreedVersion), the one before a2's rotation: bob's desktop, holding a2's version, read it as a
 * removal below its own and kept Ops (its key, its entries, the later rotation set aside for good).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops, type TeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { opsOnServer } from '../support/revoke-first';

/** How many wraps of Ops a desktop's vault file holds, anyone's. */
function opsWrapsIn(team: TeamDesktops, d: TeamDesktops['a']): number {
  const db = new Database(d.file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM group_keys WHERE group_id = ?').get(team.opsId) as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('a revoke made again after a give-way', () => {
  const clock = manualClock(Date.UTC(2026, 11, 7, 19, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-give-way', clock);
  const { a, a2, b, c, onDesktop, sync } = team;

  beforeAll(async () => {
    // Carol joins Ops too; every desktop takes it in.
    await onDesktop(a, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    for (const d of [a, a2, b, c]) expect((await sync(d)).code, d.name).toBe('ok');
  }, 180_000);

  it('is signed at the version the server holds: bob\'s desktop, holding it, drops Ops', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB, CAROL]);
    await onDesktop(a2, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    expect(await team.answer(a2)).toBe('ok');
    expect(await team.answer(b)).toBe('ok');
    // The owner's desktop, behind a2's rotation, revokes bob: it gives way to a2's and rotates again without him.
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const answers: string[] = [];
    for (const d of [a, a, b, c, a2]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'a: ok', 'b: ok', 'c: ok', 'a2: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 2 });
    // Bob's desktop took its removal: no Ops there, nor any wrap of it.
    expect((await onDesktop(b, (s) => s.team.listGroups())).map((g) => g.name)).not.toContain('Ops');
    expect(opsWrapsIn(team, b)).toBe(0);
  }, 240_000);
});
