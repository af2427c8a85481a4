/**
 * Finding C8b of the review of how desktops merge concurrent changes: the same edit made on two
 * desktops from the same base (the same resulting content, sealed with other nonces) made a
 * conflict copy. The two versions are compared opened: equal, they agree, no copy; a different
 * edit still keeps a copy. A real team server (PGlite, loopback HTTP), the owner's two desktops
 * (test/support/team-desktops.ts), the CLI's sync.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const team = useTeamDesktops('crewvault-same-edit', clock);
const { a, a2, onDesktop, sync, setPassword } = team;

async function synced(d: Desktop): Promise<{ conflictCopies: number }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { conflictCopies: number };
}

/** Titles and passwords of the entries named `title…` on a desktop. */
async function versions(d: Desktop, title: string): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) if (e.title.startsWith(title)) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
}

describe('one entry edited on two desktops from the same base', () => {
  it('the same edit on both: agreed, no conflict copy on either desktop, and later edits go on from it', async () => {
    await setPassword(a, 'Acme/Printer', 'p-same');
    await setPassword(a2, 'Acme/Printer', 'p-same');
    expect((await synced(a)).conflictCopies).toBe(0);
    expect((await synced(a2)).conflictCopies).toBe(0);
    expect((await synced(a)).conflictCopies).toBe(0);
    for (const d of [a, a2]) expect(await versions(d, 'Printer'), d.name).toEqual(['Printer=p-same']);
    await setPassword(a2, 'Acme/Printer', 'p-next');
    expect((await synced(a2)).conflictCopies).toBe(0);
    expect((await synced(a)).conflictCopies).toBe(0);
    expect(await versions(a, 'Printer')).toEqual(['Printer=p-next']);
  });

  it('the same edit on both, also in its notes: agreed; a different edit still keeps a copy', async () => {
    for (const d of [a, a2]) {
      clock.advance(1_000);
      await onDesktop(d, async (s) => {
        const entry = await s.resolvePath('Acme/Switch');
        await s.updateEntry(entry.id, { password: 's-same', notes: 'rack 4' }, entry.revision ?? -1);
      });
    }
    expect((await synced(a)).conflictCopies).toBe(0);
    expect((await synced(a2)).conflictCopies).toBe(0);
    await setPassword(a, 'Acme/Switch', 's-from-a');
    await setPassword(a2, 'Acme/Switch', 's-from-a2');
    expect((await synced(a)).conflictCopies).toBe(0);
    expect((await synced(a2)).conflictCopies).toBe(1);
    expect(await versions(a2, 'Switch')).toEqual(['Switch (conflict copy)=s-from-a2', 'Switch=s-from-a']);
  });
});
