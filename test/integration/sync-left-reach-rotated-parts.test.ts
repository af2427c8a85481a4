/**
 * sync-left-reach-rotated, with the rotation pushed in parts (electron/team/sync.ts partsOf; here one
 * record a part, as a large push is cut). The server keeps the sequence a member cut off by a
 * rotation joined at only when the same push wraps them again (server/sync/membership.ts
 * applyPeople); a rotation whose re-wraps went in later parts made each of them a member joined
 * after it, so an entry moved out of the group before the rotation was no longer told them: carol
 * kept Printer (moved into Ops, which she does not hold) at its old password, and no line said so.
 * Cut so before the people part was kept whole, and by the first version of that part (the user and
 * group records and the pusher's own memberships only). A rotation's member records now go in the
 * part kept whole. A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync for
 * carol.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { ServerProfiles } from '../../electron/team/profiles';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 8, 0, 0));
const team = useTeamDesktops('crewvault-left-rotated-parts', clock);
const { a, c, onDesktop, sync, teamClient } = team;

async function syncs(d: Desktop): Promise<{ readonly leftReach?: string; readonly leftUnverified?: string }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { readonly leftReach?: string; readonly leftUnverified?: string };
}

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

describe('an entry moved out of a group whose rotation is pushed in parts', () => {
  it('still comes off the desktop of a member the rotation kept', async () => {
    expect(await titles(c)).toEqual(['Printer']);
    // carol's desktop is away: Printer moves into Ops, then bob is revoked from the default group (its keys rotate).
    await onDesktop(a, async (s) => {
      const e = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(e.id, team.opsId, e.revision ?? -1);
    });
    await syncs(a);
    const client = await teamClient(a);
    client.serverKey = new ServerProfiles(a.env.CREWVAULT_CONFIG ?? '').get(team.server.url)?.serverKey;
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      const first = (await s.team.listGroups()).find((g) => g.id !== team.opsId);
      if (first === undefined) throw new Error('no default group');
      await s.team.revoke(first.id, 'bob', await s.team.memberRevision(first.id, 'bob'));
      // Every record in a part of its own, as far as partsOf cuts.
      await syncOnce(client, s.replica, { partRecords: 1 });
    });

    expect(await syncs(c)).toMatchObject({ leftReach: '1 entry left your reach (moved into an access group you do not hold) and was taken off this desktop.' });
    expect(await titles(c)).toEqual([]);
  });
});
