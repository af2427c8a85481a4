/**
 * What a deletion not sent keeps of its group, after a pull took the team's changes of it in (replica-group-undelete.ts
 * judgePutBack). bob, leading Ops with carol, empties and deletes Ops on his desktop; the owner revokes carol (Ops's key
 * rotated). bob's desktop pulls it (Ops put back, the revoke and the new key taken in, deleted again: he leads it still)
 * and its push of the deletion is lost; the owner then unmakes him. The next pull puts Ops back as kept: before, as kept
 * at the deletion, carol's wrap and the old key came back (records pulled once, not handed again), held as the team no
 * longer holds them. Ops must come back as the team holds it.
 * Real desktops (real vault files, real sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { syncOnce } from '../../electron/team/sync';
import { bobLeadsOpsWithCarol, holdsOps, keptClient, losingRotations, opsWrapsIn, outcomeOf, synced } from '../support/revoke-first';

const UNMADE = 'A change of yours not made: "Ops" deleted (you no longer manage the group). Never sent, the group stays as the team holds it.';

describe('a deletion not sent, the group rotated before its lead is unmade', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 18, 0, 0));
  const team = useTeamDesktops('crewvault-lead-deleted-kept-rotation', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('puts Ops back as the team holds it: no carol, the new key', async () => {
    await team.deleteEntryAt(b, 'Acme/Switch');
    await team.deleteEntryAt(b, 'Acme/Firewall');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    expect(await team.answer(a)).toBe('ok');
    // bob's desktop pulls the revoke and the new key; its push of the deletion is lost.
    const lost = await onDesktop(b, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, b, () => clock.now())), s.replica)));
    expect({ lost: lost.startsWith('SERVER_UNREACHABLE'), b: await holdsOps(team, b) }).toEqual({ lost: true, b: false });
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    // Before, the put back left him leading Ops at the old key: the deletion sent again, refused FORBIDDEN at every push.
    const first = await synced(team, b);
    const second = await synced(team, b);
    expect({ first: first.groupChangesUnmade, second: second.groupChangesUnmade, b: await holdsOps(team, b), wraps: opsWrapsIn(team, b) })
      .toEqual({ first: UNMADE, second: undefined, b: true, wraps: ['alice@2', 'bob@2'] });
    expect(opsWrapsIn(team, a)).toEqual(['alice@2', 'bob@2']);
  }, 240_000);
});
