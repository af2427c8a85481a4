/**
 * A lead unmade, then made an admin, pulled in small pages, with a rename of the group not yet sent (issue #15, hostile
 * review of 91e8333; replica-people-in.ts takePeople). bob, a lead of Ops, renames it "Ops West"; the owner unmakes him
 * as lead, then makes him an admin (who manages every group). Pulled in one page, nothing was dropped and the rename
 * landed; pulled in small pages (the server's paging, or a dishonest server choosing where pages end), the page with
 * the unmaking dropped the rename, told "not made", though bob, an admin by the end of the same pull, may send it. A
 * change of the group's own record is judged at the pull's last page, as he stands after every page.
 * Real desktops (real vault files, the sync's own code) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, keptClient, synced } from '../support/revoke-first';

describe('a lead unmade then made an admin, pulled in small pages', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 4, 0, 0));
  const team = useTeamDesktops('crewvault-lead-unmade-widened-paged', clock);
  const { a, b, onDesktop } = team;
  const nameOn = async (d: Desktop): Promise<string | undefined> => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.name);
  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);
  it('keeps the rename bob may still send', async () => {
    await onDesktop(b, async (s) => s.team.renameGroup(team.opsId, 'Ops West', await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    await synced(team, a);
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB)));
    await synced(team, a);
    const out = await onDesktop(b, async (s) => syncOnce(await keptClient(team, b, () => clock.now()), s.replica, { pullRecords: 1 }));
    await synced(team, a);
    expect({ told: out.groupChangesUnmade, b: await nameOn(b), a: await nameOn(a) }).toEqual({ told: undefined, b: 'Ops West', a: 'Ops West' });
  }, 240_000);
});
