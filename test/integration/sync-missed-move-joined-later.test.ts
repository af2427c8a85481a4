/**
 * The moves handed with an entry's record (schema 31; docs/SYNC.md "A move a desktop did not see";
 * hostile review of e041305): a move out of a group is handed to whom held that group before the
 * entry left it (as left reach, server/store/left-reach.ts), not to whom joined it since. That one
 * never held the entry there, and the move's record names the group it went to, which they may
 * never have held. carol (the default group) is given Lab after the owner moved an entry Lab → Net
 * → the default group: with its next record she is handed the move into her group only. A real
 * team server (PGlite, loopback HTTP) and the desktops of test/support/team-desktops.ts.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { groupUidIn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 4, 30, 0));
const team = useTeamDesktops('crewvault-missed-move-joined-later', clock);
const { a, c, onDesktop, answer } = team;

async function moveInto(d: Desktop, entryPath: string, groupId: number): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => { const e = await s.resolvePath(entryPath); await s.team.moveEntry(e.id, groupId, e.revision ?? -1); });
}

describe('a move out of a group someone joined after the entry left it', () => {
  it('is not handed to them with the entry\'s next record; the move into their group is', async () => {
    clock.advance(1_000);
    const { lab, net, home } = await onDesktop(a, async (s) => {
      const made = { lab: (await s.team.createGroup('Lab')).id, net: (await s.team.createGroup('Net')).id };
      return { ...made, home: (await s.team.listGroups()).find((g) => g.id !== team.opsId && g.id !== made.lab && g.id !== made.net)?.id ?? -1 };
    });
    clock.advance(1_000);
    const id = await onDesktop(a, async (s) => (await s.createEntry({ customer: 'Acme', title: 'Bridge', password: 'b-1', groupId: lab })).id);
    expect(await answer(a)).toBe('ok');
    await moveInto(a, 'Acme/Bridge', net);
    expect(await answer(a)).toBe('ok');
    await moveInto(a, 'Acme/Bridge', home);
    expect(await answer(a)).toBe('ok');
    clock.advance(1_000);
    await onDesktop(a, async (s) => { await s.team.grant(lab, 'carol', false, await s.team.groupRevision(lab)); });
    await team.setPassword(a, 'Acme/Bridge', 'b-2');
    expect(await answer(a)).toBe('ok');
    const owners = new Database(a.file, { readonly: true });
    const bridge = uidText((owners.prepare('SELECT uid FROM entries WHERE id = ?').get(id) as { uid: Buffer }).uid);
    owners.close();
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const pulled = await (await team.teamClient(c)).call('syncPull', { vault, since: 0, moves: true });
    expect(pulled.records.some((r) => r.record.id === bridge)).toBe(true);
    // Of Lab → Net → the default group: not the move out of Lab (she joined it since), which names Net.
    expect((pulled.moves ?? []).filter((m) => m.id === bridge).map((m) => m.group)).toEqual([groupUidIn(a.file, home)]);
  });
});
