/**
 * A push conflicting with a record the server leaves out of this person's pull (#15): the owner
 * moves an entry into a group carol was never handed, or revokes bob from a group, while that
 * person's desktop holds an unsent edit of one of its entries. Pulling again never brings the
 * server's newer version (it is not theirs to see), so pushing again met the same conflict each
 * round and the sync would end BUSY, at every sync, for ever. The server answers such a push
 * FORBIDDEN, never a conflict (it does not tell a revision it would not hand over); since schema
 * 25 the pull before it tells the entry left her reach (review 13b holes 2 and 4), so it leaves her
 * desktop, her edit kept as a copy the push carries, in one line; a revoke the pull tells converges
 * (the group's entries and the edits made in them dropped, said by the sync). A real team server (PGlite, loopback HTTP), the owner's and the
 * members' desktops (test/support/team-desktops.ts), the CLI's code. Must never put a password in
 * a process argument (answers go on the scripted stdin).
 */
import { describe, expect, it } from 'vitest';
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
  it('an entry moved into a group carol was never handed, crossing her edit: it leaves her desktop, her edit kept as a copy that reaches the owner, one line, never FORBIDDEN or BUSY', async () => {
    await setPassword(c, 'Acme/Printer', 'p-carol');
    await onDesktop(a, async (s) => {
      const entry = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(entry.id, team.opsId, entry.revision ?? -1);
    });
    expect(await answer(a)).toBe('ok');
    const first = await sync(c);
    expect(first.code, first.stderr).toBe('ok');
    const told = JSON.parse(first.stdout) as { leftReach?: string };
    expect(told.leftReach).toBe('1 entry left your reach (moved into an access group you do not hold) and was taken off this desktop; your change of it not yet sent was kept as "Acme/Printer (conflict copy)" in the group it was in, sent as new.');
    expect(await answer(c)).toBe('ok');
    const passwords = async (d: typeof a): Promise<string[]> => onDesktop(d, async (s) => {
      const out: string[] = [];
      for (const e of await s.listEntries()) if (e.title.startsWith('Printer')) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
      return out.sort();
    });
    expect(await passwords(c)).toEqual(['Printer (conflict copy)=p-carol']);
    expect(await answer(a)).toBe('ok');
    expect(await passwords(a)).toEqual(['Printer (conflict copy)=p-carol', 'Printer=p-1']);
  });

  it('a revoke crossing bob\'s edit of an entry of the group: his sync takes the revoke and ends ok', async () => {
    await setPassword(b, 'Acme/Switch', 's-bob');
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await answer(a)).toBe('ok');
    const answers = [await answer(b), await answer(b)];
    expect(answers).toEqual(['ok', 'ok']);
  });
});
