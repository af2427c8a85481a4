/**
 * Review 13b hole 2, the rest of its class (task 15): one change the person may no longer make
 * holds back none of their other changes. carol's custom role Tech loses entries.edit while she
 * holds an unsent edit of Printer; she then makes a new entry, which Tech still allows. Before:
 * her desktop's batch ended before the edit it could not vouch for, so the new entry (and
 * everything after the edit) never left it, at every sync, with nothing said. Expected: the new
 * entry reaches the owner at once; the edit stays on her desktop, unsent, told in one line (and in
 * --json), and goes once the role allows it again.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 4, 0, 0));
const team = useTeamDesktops('crewvault-role-narrowed', clock);
const { a, c, onDesktop, sync, setPassword } = team;

const TECH = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];
const NO_EDIT = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create'];

/** carol's sync: ok and its set-aside line, or the error code. */
async function answer(d: Desktop): Promise<{ readonly code: string; readonly setAside?: string }> {
  const out = await sync(d);
  if (out.code !== 'ok') return { code: out.code };
  const parsed = JSON.parse(out.stdout) as { readonly setAside?: string };
  return { code: 'ok', ...(parsed.setAside === undefined ? {} : { setAside: parsed.setAside }) };
}

async function passwords(d: Desktop, titles: readonly string[]): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) if (titles.includes(e.title)) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
}

describe('carol\'s role narrowed to no entries.edit while she held an edit', () => {
  it('her new entry reaches the team and the edit waits on her desktop, told', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Tech', TECH, 0);
      await s.team.changeRole(CAROL, 'Tech', await s.team.userRevision(CAROL));
    });
    expect((await answer(a)).code).toBe('ok');
    expect((await answer(c)).code).toBe('ok');
    await setPassword(c, 'Acme/Printer', 'p-carol');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', NO_EDIT, await s.team.roleRevision('Tech')));
    expect((await answer(a)).code).toBe('ok');
    clock.advance(1_000);
    await onDesktop(c, (s) => s.createEntry({ customer: 'Acme', title: 'Carol NAS', password: 'nas-1' }));
    const first = await answer(c);
    const second = await answer(c);
    expect((await answer(a)).code).toBe('ok');
    expect(await passwords(a, ['Carol NAS', 'Printer']), `carol's syncs: ${JSON.stringify([first, second])}`).toEqual(['Carol NAS=nas-1', 'Printer=p-1']);
    // The edit is kept on her desktop, and each sync says so in one line.
    expect(await passwords(c, ['Printer'])).toEqual(['Printer=p-carol']);
    expect(first.code).toBe('ok');
    expect(first.setAside).toMatch(/^1 change of an entry stays on this desktop, not sent: your role may not change entries \(entries\.edit\)/);
    expect(second.setAside).toBe(first.setAside);
    // The role allows it again: the edit goes, and nothing is set aside any more.
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect((await answer(a)).code).toBe('ok');
    expect(await answer(c)).toEqual({ code: 'ok' });
    expect((await answer(a)).code).toBe('ok');
    expect(await passwords(a, ['Carol NAS', 'Printer'])).toEqual(['Carol NAS=nas-1', 'Printer=p-carol']);
  });
});
