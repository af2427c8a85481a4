/**
 * Review of 678a3d9 (review 14 hole 1's fix), class: the server's "held the group before the
 * entry left it" filter (sync_members.joined_seq) read after a rotation. A rotation of a group
 * (here: bob revoked from the default group) drops every membership below the new key version and
 * writes the members kept again (server/sync/membership.ts dropMembershipsBelow, then
 * putMembership), so each kept member's joined_seq becomes the rotation's sequence. An entry that
 * left the group before the rotation is then no longer handed to a member who had not pulled past
 * the move: carol, who held the default group all along, keeps Printer (moved into Ops, which she
 * does not hold) at its old password for good, and no line says so.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 7, 0, 0));
const team = useTeamDesktops('crewvault-left-rotated', clock);
const { a, c, onDesktop, sync } = team;

async function syncs(d: Desktop): Promise<{ readonly leftReach?: string; readonly leftUnverified?: string }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { readonly leftReach?: string; readonly leftUnverified?: string };
}

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

describe('an entry moved out of a group that is rotated before a member pulls', () => {
  it('still comes off her desktop', async () => {
    expect(await titles(c)).toEqual(['Printer']);
    // carol's desktop is away: Printer moves into Ops, then bob is revoked from the default group (its keys rotate).
    await onDesktop(a, async (s) => {
      const e = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(e.id, team.opsId, e.revision ?? -1);
    });
    await syncs(a);
    await onDesktop(a, async (s) => {
      const first = (await s.team.listGroups()).find((g) => g.id !== team.opsId);
      if (first === undefined) throw new Error('no default group');
      await s.team.revoke(first.id, 'bob', await s.team.memberRevision(first.id, 'bob'));
    });
    await syncs(a);

    expect(await syncs(c)).toMatchObject({ leftReach: '1 entry left your reach (moved into an access group you do not hold) and was taken off this desktop.' });
    expect(await titles(c)).toEqual([]);
  });
});
