/**
 * A lead unmade while their own revoke waits, the member it revokes made a lead meanwhile (issue #15's give-way,
 * replica-own-key.ts giveWayToHeld). bob, a lead of Ops, revokes carol (a rotation, unsent); the owner makes carol a
 * lead of Ops and unmakes bob, in one push. bob's desktop took the owner's record of carol, below its own rotation, as
 * nothing but its revoke's revision raised, and the give-way wrapped her again as the membership agreed before it: a
 * member only. The server holds her a lead, and no pull hands that record again, so bob's desktop held her none for
 * good (her changes to Ops judged as from someone not managing it). The record's state, from someone who manages the
 * group, is kept as agreed beside the raised revision, and the give-way wraps her as it.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, opsOnServer, synced, UNDONE_CAROL } from '../support/revoke-first';

/** Who leads a group in a desktop's vault file, by name. */
function leadsIn(d: Desktop, groupId: number): string[] {
  const db = new Database(d.file, { readonly: true });
  try {
    return (db.prepare('SELECT u.name FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND gk.is_lead = 1').all(groupId) as Array<{ name: string }>).map((r) => r.name).sort();
  } finally {
    db.close();
  }
}

describe('a lead unmade while their own revoke waits, its member made a lead meanwhile', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 19, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-unmade-member-changed', clock);
  const { a, b, c, onDesktop } = team;

  beforeAll(async () => {
    await bobLeadsOpsWithCarol(team);
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'team_lead', await s.team.userRevision(CAROL)));
    for (const d of [a, b, c]) expect(await team.answer(d)).toBe('ok');
  }, 240_000);

  it('holds carol as the lead the team made her', async () => {
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(a, async (s) => {
      await s.team.setLead(team.opsId, CAROL, true, await s.team.memberRevision(team.opsId, CAROL));
      await s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB));
    });
    expect(await team.answer(a)).toBe('ok');
    for (const d of [b, b]) expect(await team.answer(d)).toBe('ok');
    expect({ server: (await opsOnServer(team)).holders, a: leadsIn(a, team.opsId), b: leadsIn(b, team.opsId) })
      .toEqual({ server: ['alice', BOB, CAROL], a: ['alice', CAROL], b: ['alice', CAROL] });
    expect((await synced(team, b)).revokesUnmade).toBe(UNDONE_CAROL);
  }, 240_000);
});
