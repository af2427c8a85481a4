/**
 * A lead's deletion of a group not yet sent, crossed by the owner's change of the group elsewhere (replica-group-undelete.ts).
 * bob, leading Ops with carol, empties and deletes Ops on his desktop; the owner renames Ops meanwhile. Leading it still,
 * his deletion lands, nothing kept. Before, the rename pulled was dropped on his tombstone, his deletion went at the
 * rename's revision, stored as nothing (stale) and forgotten as sent: the team kept Ops, his desktop did not, untold.
 * Real desktops (real vault files, real sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deletionsKeptOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, holdsOps, synced } from '../support/revoke-first';

describe('a lead deletion crossed by a rename elsewhere', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 18, 0, 0));
  const team = useTeamDesktops('crewvault-lead-deleted-crossed-rename', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('leading Ops still, his deletion lands over the rename', async () => {
    await team.deleteEntryAt(b, 'Acme/Switch');
    await team.deleteEntryAt(b, 'Acme/Firewall');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.renameGroup(team.opsId, 'Ops-2', await s.team.groupRevision(team.opsId)));
    expect(await team.answer(a)).toBe('ok');
    const out = await team.sync(b);
    await synced(team, a);
    expect({ code: out.code, err: out.stderr, a: await holdsOps(team, a), b: await holdsOps(team, b), kept: deletionsKeptOn(b) }).toEqual({ code: 'ok', err: '', a: false, b: false, kept: 0 });
  }, 240_000);
});
