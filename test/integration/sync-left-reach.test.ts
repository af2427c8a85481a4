/**
 * Review round 13b, hole 4 (class: a record leaving a person's view is never told to them). The
 * owner moves Camera from the default group into Ops (carol holds the default group only) and
 * syncs. The server hands an entry only to its group's members, so carol's pull brings nothing of
 * the move: her desktop keeps Camera in the default group, at its old password, for good, while
 * every other desktop holds it in Ops; her later edit of it is FORBIDDEN at every sync (and holds
 * back all her other changes: hole 2). A revoke tells her (the group and its entries leave her
 * desktop); a move does not. Expected (safe): after her sync, Camera is gone from her desktop (or
 * the sync says it left her reach).
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 3, 0, 0));
const team = useTeamDesktops('crewvault-r13b-movedout', clock);
const { a, c, onDesktop, sync } = team;

async function answer(d: Desktop): Promise<string> {
  const out = await sync(d);
  return out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`;
}

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

describe('an entry moved out of carol\'s only group', () => {
  it('leaves her desktop', async () => {
    await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title: 'Camera', password: 'cam-1' }));
    for (const d of [a, c]) expect(await answer(d)).toBe('ok');
    expect(await titles(c)).toEqual(['Camera', 'Printer']);
    await onDesktop(a, async (s) => { const e = await s.resolvePath('Acme/Camera'); await s.team.moveEntry(e.id, team.opsId, e.revision ?? -1); });
    expect(await answer(a)).toBe('ok');
    const answers = [await answer(c), await answer(c)];
    expect({ answers, onCarol: await titles(c) }).toEqual({ answers: ['ok', 'ok'], onCarol: ['Printer'] });
  });
});
