/**
 * Review round 13b, hole 2 (class: one record the server refuses whole-push holds back every
 * other change of that desktop, for good). carol edits Printer in the default group; the owner
 * moves Printer into Ops, which carol was never handed, and syncs. carol then makes an unrelated
 * change she may make (a new entry, and an edit of another default-group entry). Her sync is
 * FORBIDDEN naming Printer, at every sync, and since the server refuses the push whole and the
 * desktop sends its entries in one part, her new entry and her other edit never reach the server
 * or anyone: the owner's desktop never sees them, for as long as Printer stays in Ops. Expected
 * (safe): the refused entry waits alone (as "One stuck object holds back only itself" does for
 * roles, settings and the policy); her other changes reach the owner.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 3, 0, 0));
const team = useTeamDesktops('crewvault-r13b-wedge', clock);
const { a, c, onDesktop, sync, setPassword } = team;

async function answer(d: Desktop): Promise<string> {
  const out = await sync(d);
  return out.code === 'ok' ? 'ok' : `${out.code}`;
}

describe('an entry moved out of carol\'s reach while she held an edit of it', () => {
  it('still lets her other changes reach the team', async () => {
    // A second default-group entry both can edit, agreed everywhere first.
    await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title: 'Router', password: 'r-1' }));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    await setPassword(c, 'Acme/Printer', 'p-carol');
    await onDesktop(a, async (s) => {
      const entry = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(entry.id, team.opsId, entry.revision ?? -1);
    });
    expect(await answer(a)).toBe('ok');
    // carol's other work, which she may do and which has nothing to do with Printer.
    clock.advance(1_000);
    await onDesktop(c, (s) => s.createEntry({ customer: 'Acme', title: 'Carol NAS', password: 'nas-1' }));
    await setPassword(c, 'Acme/Router', 'r-carol');
    const answers = [await answer(c), await answer(c)];
    expect(await answer(a)).toBe('ok');
    const onOwner = await onDesktop(a, async (s) => {
      const out: string[] = [];
      for (const e of await s.listEntries()) if (e.title === 'Carol NAS' || e.title === 'Router') out.push(`${e.title}=${await s.revealPassword(e.id)}`);
      return out.sort();
    });
    expect(onOwner, `carol's syncs: ${answers.join(', ')}`).toEqual(['Carol NAS=nas-1', 'Router=r-carol']);
  });
});
