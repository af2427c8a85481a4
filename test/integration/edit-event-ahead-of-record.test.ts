/**
 * An edit's audit event reaching a desktop in an earlier pull than the edit itself (events have a
 * sent mark of their own: store-events-sent.ts) is still an edit made elsewhere when its record
 * comes. carol's custom role Tech loses entries.edit while she holds an unsent edit of Token (an
 * HOTP entry): her edit waits on her desktop, its `entry.edit` event goes, and the owner takes it.
 * The role allows it again; the owner deletes Token on his desktop, not yet sent; carol takes an
 * HOTP code of Token and syncs: her edit goes now, with only the code's event. Before: the owner's
 * sync judged her record by the events of that pull alone (replica-both-changed.ts): a code taken
 * elsewhere and no edit, so his delete was written over her version and sent, her edit lost on
 * every desktop, nobody told. Expected: her edit stands (a delete loses to an edit), as it did
 * when the event came with its record. A real team server (PGlite, loopback HTTP), real vault
 * files, the CLI's sync (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 7, 0, 0));
const team = useTeamDesktops('crewvault-edit-event-ahead', clock);
const { a, c, onDesktop, answer, setPassword, deleteEntryAt, takeCode } = team;

const TECH = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];
const NO_EDIT = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create'];

async function passwordOn(d: Desktop, title: string): Promise<string | undefined> {
  return onDesktop(d, async (s) => {
    const entry = (await s.listEntries()).find((e) => e.title === title);
    return entry === undefined ? undefined : s.revealPassword(entry.id);
  });
}

describe('carol\'s edit whose event went ahead of it', () => {
  it('is an edit made elsewhere when it comes: the owner\'s unsent delete of the entry does not go over it', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Tech', TECH, 0);
      await s.team.changeRole(CAROL, 'Tech', await s.team.userRevision(CAROL));
      await s.createEntry({ customer: 'Acme', title: 'Token', password: 't-1', otp: { params: { kind: 'hotp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    await setPassword(c, 'Acme/Token', 't-carol');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', NO_EDIT, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    // Her edit waits; its event goes, and the owner takes it.
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await passwordOn(a, 'Token')).toBe('t-1');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    await deleteEntryAt(a, 'Acme/Token');
    await takeCode(c, 'Token');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await passwordOn(a, 'Token'), 'carol\'s edit on the owner\'s desktop').toBe('t-carol');
    expect(await passwordOn(c, 'Token'), 'carol\'s edit on her desktop').toBe('t-carol');
  });
});
