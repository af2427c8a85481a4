/**
 * A desktop's first sync (the server's snapshot) judges an entry at a later revision as the change
 * it is, not as its latest author's creating it (hostile review of #15): bob's custom role may edit
 * but not add entries, and he edits Printer (revision 2, base 1). carol's new desktop, filled by its
 * first sync after that, set Printer aside for good ('entries.create in a group they hold'): the
 * entry missing on that desktop only. Now a record based on a revision the team held needs what a
 * change of it in its group needs (entries.edit). A real team server (PGlite, loopback HTTP), real
 * vault files, the CLI's sync (test/support/team-desktops.ts). Must never put a password in a
 * process argument.
 */
import { describe, expect, it } from 'vitest';
import { BOB, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 7, 0, 0));
const team = useTeamDesktops('crewvault-never-held-first-sync', clock, { firstSyncCarol: 'later' });
const { a, b, c2, onDesktop, answer, setPassword } = team;

const NO_CREATE = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.edit'];

describe('a first sync after an edit by someone who may not add entries', () => {
  it('takes the entry at its later revision', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('NoCreate', NO_CREATE, 0);
      await s.team.changeRole(BOB, 'NoCreate', await s.team.userRevision(BOB));
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(b)).toBe('ok');
    clock.advance(1_000);
    await setPassword(b, 'Acme/Printer', 'p-bob');
    expect(await answer(b)).toBe('ok');
    expect(await answer(c2)).toBe('ok');
    // Before: 'does what its sender may not (entries.create in a group they hold)', set aside for good.
    expect(setAsideOn(c2)).toEqual([]);
    const password = await onDesktop(c2, async (s) => {
      const entry = (await s.listEntries()).find((e) => e.title === 'Printer');
      return entry === undefined ? undefined : s.revealPassword(entry.id);
    });
    expect(password).toBe('p-bob');
  });
});
