/**
 * A group deleted leaves no name of it behind (store-groups.ts tombstoneGroup: the sealed name emptied, the keyed index
 * the group's own id), nor the name kept as agreed while a rename of it waited (store-agreed-group.ts, issue #15; hostile
 * review of 91e8333): that row, the name a rename replaced sealed with its keyed index, stayed in the file for good after
 * the group was deleted, here or elsewhere. Each of the owner's desktops renames the group (keeping the name it replaced),
 * sends it, and the group is deleted: on the desktop that deletes it and on the one taking the deletion in.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

/** The meta rows a desktop's vault file keeps of a group's agreed name or setting (read from the file). */
function agreedRowsIn(d: Desktop, groupId: number): string[] {
  const db = new Database(d.file, { readonly: true });
  try {
    return (db.prepare('SELECT key FROM meta WHERE key IN (?, ?)').all(`agreed_name:${groupId}`, `agreed_codes:${groupId}`) as Array<{ key: string }>).map((r) => r.key);
  } finally {
    db.close();
  }
}

describe('a group deleted, its name kept as agreed', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 21, 0, 0));
  const team = useTeamDesktops('crewvault-group-deleted-agreed-name', clock);
  const { a, a2, onDesktop } = team;

  it('is wiped with the group, here and where the deletion is taken in', async () => {
    const groupId = await onDesktop(a, async (s) => (await s.team.createGroup('Merger Talks')).id);
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(a2)).toBe('ok');
    await onDesktop(a, async (s) => s.team.renameGroup(groupId, 'Quiet Room', await s.team.groupRevision(groupId)));
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(a2)).toBe('ok');
    await onDesktop(a2, async (s) => s.team.renameGroup(groupId, 'Annex', await s.team.groupRevision(groupId)));
    expect(await team.answer(a2)).toBe('ok');
    expect(await team.answer(a)).toBe('ok');
    // Both kept a name as agreed while their rename waited.
    expect({ a: agreedRowsIn(a, groupId), a2: agreedRowsIn(a2, groupId) }).toEqual({ a: [`agreed_name:${groupId}`], a2: [`agreed_name:${groupId}`] });
    await onDesktop(a, async (s) => s.team.deleteGroup(groupId, await s.team.groupRevision(groupId)));
    expect(await team.answer(a)).toBe('ok');
    expect(await team.answer(a2)).toBe('ok');
    expect(await onDesktop(a2, async (s) => (await s.team.listGroups()).some((g) => g.id === groupId))).toBe(false);
    expect({ a: agreedRowsIn(a, groupId), a2: agreedRowsIn(a2, groupId) }).toEqual({ a: [], a2: [] });
  }, 240_000);
});
