/**
 * A lead hands their group over in one push: bob, Ops's lead, makes carol a lead, then unmakes
 * himself, and syncs. Two holes on the way, each failing this test: his desktop sent neither record
 * (replica-service.ts peopleSender counted only the groups he leads here, so both were left out for
 * good, the sync saying ok); and sent, partsOf put his own membership first in a part of its own, so
 * the server stored the unmaking alone and refused carol's making in the part after (FORBIDDEN: he no
 * longer led Ops), at every sync. Whole, the server judges both by who led before the push
 * (server/sync/membership.ts applyPeople) and takes them; the owner's desktop then sees carol lead.
 * A real team server (PGlite, loopback HTTP), test/support/team-desktops.ts.
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
const team = useTeamDesktops('crewvault-lead-hands-over', clock);
const { a, b, onDesktop, sync } = team;

const leadsOfOps = (d: typeof a) => onDesktop(d, async (s) => (await s.team.members(team.opsId)).filter((m) => m.lead).map((m) => m.name).sort());

describe('a lead handing their group over in one push', () => {
  it('reaches the server: the new lead made before the old one unmade', async () => {
    await onDesktop(a, async (s) => {
      await s.team.changeRole(BOB, 'team_lead', await s.team.userRevision(BOB));
      await s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId));
      await s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB));
    });
    const made = await sync(a);
    expect(made.code, made.stderr).toBe('ok');
    const took = await sync(b);
    expect(took.code, took.stderr).toBe('ok');
    expect(await leadsOfOps(b)).toContain(BOB);

    await onDesktop(b, async (s) => {
      await s.team.setLead(team.opsId, CAROL, true, await s.team.memberRevision(team.opsId, CAROL));
      await s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB));
    });
    const handed = await sync(b);
    expect(handed.code, handed.stderr).toBe('ok');
    const seen = await sync(a);
    expect(seen.code, seen.stderr).toBe('ok');
    expect(await leadsOfOps(a)).toEqual([OWNER, CAROL].sort());
  });
});
