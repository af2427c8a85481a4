/**
 * A lead's deletion of their group reaches the team (issue #15; replica-group-undelete.ts deletedLeading). bob, a team
 * lead leading Ops, deletes its two entries and then Ops on his desktop and syncs. A desktop sends a group's record only
 * for a group its person manages, judged by the groups its session's key ring holds as led (replica-service.ts
 * peopleSender), and the ring holds no deleted group: the entries' deletes went, the group's did not, and the team kept
 * Ops (its members, its key) while his desktop did not, nothing told, for good.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, holdsOps, synced } from '../support/revoke-first';

describe('a lead deleting the group they lead', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 18, 0, 0));
  const team = useTeamDesktops('crewvault-lead-deletes-group', clock);
  const { a, b, c, onDesktop } = team;
  const titles = async (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('sends the deletion: every desktop of the team deletes Ops too', async () => {
    await team.deleteEntryAt(b, 'Acme/Switch');
    await team.deleteEntryAt(b, 'Acme/Firewall');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    const out = await synced(team, b);
    for (const d of [a, c]) await synced(team, d);
    expect({ held: out.held, a: await holdsOps(team, a), b: await holdsOps(team, b), c: await holdsOps(team, c), titlesA: await titles(a) })
      .toEqual({ held: 0, a: false, b: false, c: false, titlesA: ['Printer'] });
  }, 240_000);
});
