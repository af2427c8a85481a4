/**
 * The sequences a desktop's applies wrote (`replica.taken_seqs`, store-replica-people.ts) while its
 * pushes are held back (docs/SYNC.md, the `member` row's sending desktop): carol, an admin on her own
 * desktop, moves Printer into Lab, which the owner deletes before her push, so the move waits there
 * and her sent mark stays before it, sync after sync. Between her syncs the owner makes and unmakes
 * bob Ops' lead, and carol changes Switch's password. Before noteTakenSeqs kept only the ranges a
 * read can tell apart, the setting grew by one range a sync (her write between two applies split
 * them) for as long as the move waited. Her pushes still send her own changes only: none of the
 * owner's member records comes back from her, and her lead change goes as hers. A real team server
 * (PGlite, loopback HTTP), the desktops of test/support/team-desktops.ts.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { BOB, CAROL, useTeamDesktops, type Desktop, storedPeopleOn, type StoredPerson } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 10, 0, 0));
const team = useTeamDesktops('crewvault-taken-refused', clock);
const { a, c, onDesktop, sync, setPassword } = team;

/** The team server's user, group and member records, one a record id (the newest stored). */
const storedPeople = (): Promise<Map<string, StoredPerson>> => storedPeopleOn(team, a);

/** What a desktop's file holds of its replica bookkeeping: the sent sequence, the applies' ranges, and carol's global id. */
function fileState(d: Desktop): { readonly sentSeq: number; readonly takenRanges: number; readonly carol: string } {
  const db = new Database(d.file, { readonly: true });
  try {
    const sentSeq = (db.prepare('SELECT sent_seq FROM replica_state WHERE id = 1').get() as { sent_seq: number }).sent_seq;
    const taken = db.prepare("SELECT value FROM settings WHERE key = 'replica.taken_seqs'").get() as { value: string } | undefined;
    const carol = uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(CAROL) as { uid: Buffer }).uid);
    return { sentSeq, takenRanges: taken === undefined ? 0 : (JSON.parse(taken.value) as unknown[]).length, carol };
  } finally {
    db.close();
  }
}

async function synced(d: Desktop): Promise<Record<string, unknown>> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

const CYCLES = 8;

describe('an admin\'s desktop whose push waits on a group deleted elsewhere', () => {
  it('keeps the ranges its applies wrote bounded, and sends only its own changes', async () => {
    await onDesktop(a, async (s) => { await s.team.changeRole(CAROL, 'admin', await s.team.userRevision(CAROL)); });
    clock.advance(1_000);
    const labId = await onDesktop(a, async (s) => (await s.team.createGroup('Lab')).id);
    await synced(a);
    await synced(c);
    const labOnC = await onDesktop(c, async (s) => (await s.team.listGroups()).find((g) => g.name === 'Lab')?.id);
    if (labOnC === undefined) throw new Error('carol does not hold Lab');

    // carol moves Printer into Lab, not sent; the owner deletes Lab first: her move waits, told, at every sync.
    clock.advance(1_000);
    await onDesktop(c, async (s) => { const p = await s.resolvePath('Acme/Printer'); await s.team.moveEntry(p.id, labOnC, p.revision ?? -1); });
    clock.advance(1_000);
    await onDesktop(a, async (s) => s.team.deleteGroup(labId, await s.team.groupRevision(labId)));
    await synced(a);
    expect(await synced(c)).toHaveProperty('deletionWaiting');
    const held = fileState(c);

    const ranges: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      clock.advance(1_000);
      await onDesktop(a, async (s) => { await s.team.setLead(team.opsId, BOB, i % 2 === 0, await s.team.memberRevision(team.opsId, BOB)); });
      await synced(a);
      const owners = await storedPeople();
      await setPassword(c, 'Acme/Switch', `s-carol-${i}`);
      expect(await synced(c)).toHaveProperty('deletionWaiting');
      // Nothing of the owner's came back from carol: every record as its author stored it.
      expect(await storedPeople()).toEqual(owners);
      ranges.push(fileState(c).takenRanges);
    }
    // The sent mark never passed the waiting move, and the ranges did not grow with the syncs.
    expect(fileState(c).sentSeq).toBe(held.sentSeq);
    expect(Math.max(...ranges)).toBeLessThanOrEqual(2);
    await synced(a);
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id))).toBe(`s-carol-${CYCLES - 1}`);

    // What carol changes of the people herself still goes, signed as hers, and nothing else.
    const before = await storedPeople();
    clock.advance(1_000);
    await onDesktop(c, async (s) => { await s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)); });
    await synced(c);
    const changed = [...(await storedPeople())].filter(([id, r]) => before.get(id)?.seq !== r.seq);
    expect(changed.map(([, r]) => ({ kind: r.kind, author: r.author }))).toEqual([{ kind: 'member', author: held.carol }]);
    await synced(a);
    expect(await onDesktop(a, async (s) => (await s.team.members(team.opsId)).filter((m) => m.name === BOB).map((m) => m.lead))).toEqual([true]);
  }, 240_000);
});
