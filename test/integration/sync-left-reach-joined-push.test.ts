/**
 * A membership a push makes dates from after that push's records (review of 678a3d9, finding 2):
 * it was dated the vault's sequence before the push, so an entry the same push moved out of the
 * group counted as moved after the join. The owner grants carol Ops and moves Switch from Ops to Sec
 * in one push (a sync that also deletes a group sends it whole): carol never held Switch and is handed nothing of it. A move out of Ops in a later
 * push is handed her (her membership is not dated too late).
 * A real team server (PGlite, loopback HTTP), real vault files, the team client's pull.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 7, 0, 0));
const team = useTeamDesktops('crewvault-left-joined-push', clock);
const { a, c, onDesktop, sync, teamClient } = team;

describe('a member granted a group in the push that moves an entry out of it', () => {
  it('is handed no record of that move, and is of a later one', async () => {
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    let secId = -1;
    let spareId = -1;
    await onDesktop(a, async (s) => {
      secId = (await s.team.createGroup('Sec')).id;
      spareId = (await s.team.createGroup('Spare')).id;
    });
    expect((await sync(a)).code).toBe('ok');
    const before = (await (await teamClient(c)).call('syncPull', { vault, since: 0 })).upTo;
    await onDesktop(a, async (s) => {
      // A push that deletes a group is sent whole (electron/team/sync.ts partsOf): the grant and the move in one push.
      await s.team.deleteGroup(spareId, await s.team.groupRevision(spareId));
      await s.team.grant(team.opsId, 'carol', false, await s.team.groupRevision(team.opsId));
      const e = await s.resolvePath('Acme/Switch');
      await s.team.moveEntry(e.id, secId, e.revision ?? -1);
    });
    expect((await sync(a)).code).toBe('ok');
    const granted = await (await teamClient(c)).call('syncPull', { vault, since: before, leftRecords: true });
    expect(granted.leftRecords ?? []).toEqual([]);

    await onDesktop(a, async (s) => {
      const e = await s.resolvePath('Acme/Firewall');
      await s.team.moveEntry(e.id, secId, e.revision ?? -1);
    });
    expect((await sync(a)).code).toBe('ok');
    const later = await (await teamClient(c)).call('syncPull', { vault, since: granted.upTo, leftRecords: true });
    // Firewall's move alone (Switch's is below the range asked).
    expect(later.leftRecords ?? []).toHaveLength(1);
  });
});
