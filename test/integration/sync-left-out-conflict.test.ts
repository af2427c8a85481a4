/**
 * A push conflicting with a record the server leaves out of this person's pull (#15): the owner
 * moves an entry into a group carol was never handed, or revokes bob from a group, while that
 * person's desktop holds an unsent edit of one of its entries. Pulling again never brings the
 * server's newer version (it is not theirs to see), so pushing again met the same conflict each
 * round and the sync would end BUSY, at every sync, for ever. The server answers such a push
 * FORBIDDEN, never a conflict (it does not tell a revision it would not hand over): the line now
 * names the entry and why, the same at every sync; a revoke the pull tells converges (the group's
 * entries and the edits made in them dropped, said by the sync). A real team server (PGlite, loopback HTTP), the owner's and the
 * members' desktops (test/support/team-desktops.ts), the CLI's code. Must never put a password in
 * a process argument (answers go on the scripted stdin).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const team = useTeamDesktops('crewvault-left-out', clock);
const { a, b, c, onDesktop, sync, setPassword } = team;

/** A sync's answer: 'ok', or the code and the line it printed. */
async function answer(d: typeof a): Promise<string> {
  const out = await sync(d);
  return out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`;
}

describe('a push conflicting with a record the server leaves out of this person\'s pull', () => {
  it('an entry moved into a group carol was never handed, crossing her edit: one FORBIDDEN line naming it and why, never BUSY', async () => {
    await setPassword(c, 'Acme/Printer', 'p-carol');
    const printer = await onDesktop(a, async (s) => {
      const entry = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(entry.id, team.opsId, entry.revision ?? -1);
      return entry.id;
    });
    expect(await answer(a)).toBe('ok');
    const db = new Database(a.file, { readonly: true });
    const uid = uidText((db.prepare('SELECT uid FROM entries WHERE id = ?').get(printer) as { uid: Buffer }).uid);
    db.close();
    const line = `FORBIDDEN: crewvault: FORBIDDEN: The entry ${uid} changed here is in an access group you do not hold now (moved there, or your access removed), so the change cannot be sent: nothing was stored. Ask an owner or admin to give the group back, or to change it there.`;
    // The same one line at every sync: never three rounds and BUSY, nor a conflict telling her its revision.
    expect([await answer(c), await answer(c)]).toEqual([line, line]);
  });

  it('a revoke crossing bob\'s edit of an entry of the group: his sync takes the revoke and ends ok', async () => {
    await setPassword(b, 'Acme/Switch', 's-bob');
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await answer(a)).toBe('ok');
    const answers = [await answer(b), await answer(b)];
    expect(answers).toEqual(['ok', 'ok']);
  });
});
