/**
 * Findings C2/C3 of the review of how desktops merge concurrent changes: a push the server stored
 * whose reply never reached the desktop, then a change of the same entry made on top of it. At the
 * next sync the desktop must know the server's revision for its own earlier push and build on it:
 * no conflict copy of its own version. Its own edit or delete on top already converged (the pushed
 * record comes back and is recognised: kept here as guards); another desktop's edit on top made a
 * copy of this desktop's own pushed version (the pull hands only the newer one). The lost
 * reply is the push made as sync.ts makes it (noted, then sent over real HTTP) without the reply
 * taken in. A real team server (PGlite, loopback HTTP), the owner's two desktops
 * (test/support/team-desktops.ts), the CLI's sync.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const team = useTeamDesktops('crewvault-unacked-push', clock);
const { a, a2, onDesktop, sync, setPassword, teamClient } = team;

async function synced(d: Desktop): Promise<{ conflictCopies: number }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { conflictCopies: number };
}

/** What desktop `d` has to send, pushed and stored by the server, its reply lost: the desktop never marks it sent. */
async function pushReplyLost(d: Desktop): Promise<void> {
  const out = await onDesktop(d, async (s) => {
    const outgoing = await s.replica.outgoing(false, true);
    await s.replica.pushing(outgoing);
    return outgoing;
  });
  const stored = await (await teamClient(d)).call('syncPush', { batch: out.batch });
  expect(stored.conflicts).toEqual([]);
}

async function versions(d: Desktop, title: string): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) if (e.title.startsWith(title)) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
}

describe('a push stored by the server whose reply was lost, then a change on top of it', () => {
  it('edited again on top: the next sync sends the later edit, no conflict copy on either desktop', async () => {
    await setPassword(a, 'Acme/Printer', 'p-2');
    await pushReplyLost(a);
    await setPassword(a, 'Acme/Printer', 'p-3');
    expect((await synced(a)).conflictCopies).toBe(0);
    expect(await versions(a, 'Printer')).toEqual(['Printer=p-3']);
    expect((await synced(a2)).conflictCopies).toBe(0);
    expect(await versions(a2, 'Printer')).toEqual(['Printer=p-3']);
  });

  it('another desktop edits on top of the unacknowledged push: its edit taken, no copy of this desktop\'s own pushed version', async () => {
    await setPassword(a, 'Acme/Firewall', 'f-2');
    await pushReplyLost(a);
    expect((await synced(a2)).conflictCopies).toBe(0);
    expect(await versions(a2, 'Firewall')).toEqual(['Firewall=f-2']);
    await setPassword(a2, 'Acme/Firewall', 'f-3');
    expect((await synced(a2)).conflictCopies).toBe(0);
    expect((await synced(a)).conflictCopies).toBe(0);
    expect(await versions(a, 'Firewall')).toEqual(['Firewall=f-3']);
  });

  it('deleted on top: the delete is sent, the entry comes back on neither desktop', async () => {
    await setPassword(a, 'Acme/Switch', 's-2');
    await pushReplyLost(a);
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      const entry = await s.resolvePath('Acme/Switch');
      await s.deleteEntry(entry.id, entry.revision ?? -1);
    });
    expect((await synced(a)).conflictCopies).toBe(0);
    expect((await synced(a2)).conflictCopies).toBe(0);
    for (const d of [a, a2]) expect(await versions(d, 'Switch'), d.name).toEqual([]);
  });
});
