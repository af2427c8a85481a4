/**
 * A conflict copy no push of its person may carry is not made (last session's review, LOW 2).
 * carol's custom role Editor may change entries (entries.edit) and not add them (entries.create).
 * She and the owner change Printer from the same version; the owner syncs first. Before: carol's
 * sync kept her version as a new entry "Printer (conflict copy)", which her pushes could never
 * carry (a new entry needs entries.create, on the server and on every desktop): it stayed on her
 * desktop for good, told at every sync as a change her role may not make, the team never seeing
 * it. Expected, as for an entry that left her reach (replica-left-reach.ts): the owner's version
 * stands, her change is dropped, told in one line of the sync and audited as group.changes_dropped
 * (which reaches the owner), and nothing is left waiting on her desktop.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 6, 0, 0));
const team = useTeamDesktops('crewvault-copy-not-added', clock);
const { a, c, onDesktop, sync, answer, setPassword } = team;

const EDITOR = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.edit'];

interface Told {
  readonly code: string;
  readonly conflictCopies?: number;
  readonly copiesNotAdded?: string;
  readonly setAside?: string;
}

async function told(d: Desktop): Promise<Told> {
  const out = await sync(d);
  if (out.code !== 'ok') return { code: `${out.code}: ${out.stderr.trim()}` };
  const parsed = JSON.parse(out.stdout) as Omit<Told, 'code'>;
  return { code: 'ok', conflictCopies: parsed.conflictCopies, ...(parsed.copiesNotAdded === undefined ? {} : { copiesNotAdded: parsed.copiesNotAdded }), ...(parsed.setAside === undefined ? {} : { setAside: parsed.setAside }) };
}

/** Each entry's title and password on `d`, sorted. */
async function entriesOn(d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
}

describe('carol may edit entries and not add them', () => {
  it('her version of an entry the owner changed too is dropped, told and audited, not kept as a copy that never goes', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Editor', EDITOR, 0);
      await s.team.changeRole(CAROL, 'Editor', await s.team.userRevision(CAROL));
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    await setPassword(c, 'Acme/Printer', 'p-carol');
    await setPassword(a, 'Acme/Printer', 'p-owner');
    expect(await answer(a)).toBe('ok');
    const first = await told(c);
    expect(first).toEqual({
      code: 'ok', conflictCopies: 0,
      copiesNotAdded: '1 change of an entry made here was dropped: it was changed on another desktop too, whose version stands, and your role may not add entries (entries.create), so no copy of it could be kept.',
    });
    // Nothing waits on her desktop: the next sync tells nothing of it.
    const second = await told(c);
    expect(second).toEqual({ code: 'ok', conflictCopies: 0 });
    expect(await entriesOn(c)).toEqual(['Printer=p-owner']);
    expect(await answer(a)).toBe('ok');
    const dropped = await onDesktop(a, async (s) => (await s.auditLog()).filter((r) => r.action === 'group.changes_dropped' && r.actor === CAROL));
    expect(dropped.map((r) => r.detail)).toEqual([expect.stringContaining('your role may not add entries (entries.create), so no copy of it could be kept')]);
    expect((await entriesOn(a)).filter((e) => e.startsWith('Printer'))).toEqual(['Printer=p-owner']);
  });
});
