/**
 * Review round 13b, hole 3 (class: an entry a member never held arriving in a group they hold).
 * The owner moves Switch from Ops (bob's group; carol was never handed it) into the default group,
 * which carol holds, and syncs. carol's next sync ends NOT_FOUND "No such entry.", and so does every
 * sync of hers after: nothing more reaches her desktop, and nothing of hers leaves it. Expected
 * (safe): her sync takes Switch in as a new entry of the default group and ends ok.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 3, 0, 0));
const team = useTeamDesktops('crewvault-r13b-movedin', clock);
const { a, c, onDesktop, sync } = team;

async function answer(d: Desktop): Promise<string> {
  const out = await sync(d);
  return out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`;
}

describe('an entry moved into a group carol holds, from one she was never handed', () => {
  it('reaches her desktop and her syncs go on', async () => {
    await onDesktop(a, async (s) => {
      const e = await s.resolvePath('Acme/Switch');
      const into = (await s.team.listGroups()).find((g) => g.id !== team.opsId);
      await s.team.moveEntry(e.id, into?.id ?? -1, e.revision ?? -1);
    });
    expect(await answer(a)).toBe('ok');
    const answers = [await answer(c), await answer(c)];
    const titles = await onDesktop(c, async (s) => (await s.listEntries()).map((e) => e.title).sort());
    expect({ answers, titles }).toEqual({ answers: ['ok', 'ok'], titles: ['Printer', 'Switch'] });
  });
});
