/**
 * A received audit event naming an entry the receiver lacks is held there as #15's emptied tombstone
 * only when its author may have held the group it names (hostile review of #15; SECURITY.md Known
 * limits): carol (the default group only) signs, on her own device chain, a 'password.reveal' naming
 * an entry id nobody holds in Ops, a group she never held, and pushes it. After #15 the owner took
 * it (her log showed a reveal she could not have made); now the owner refuses it, as before #15
 * ("an access group its event's author is not known here to have held"), set aside with her chain
 * after it, her earlier events kept and the owner's history verifying. A real team server (PGlite,
 * loopback HTTP), real vault files, the CLI's sync. Must never put a password in a process argument.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { groupUidIn, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { carolsChainTail, carolsReveal } from '../support/carol-signs';
import { manualClock } from '../support/vault';
import { REPLICA_FORMAT } from '../../shared/sync/records';

/** Whether the file holds a row (a tombstone included) of the entry with global id `uid`. */
function entryHeld(file: string, uid: string | null): boolean {
  if (uid === null) return false;
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM entries WHERE uid = ?').get(Buffer.from(uid.replaceAll('-', ''), 'hex')) !== undefined;
  } finally {
    db.close();
  }
}

const clock = manualClock(Date.UTC(2026, 11, 7, 8, 0, 0));
const team = useTeamDesktops('crewvault-event-unheld', clock);
const { a, c, onDesktop, answer, teamClient } = team;

describe('an event naming an entry nobody holds, in a group its author never held', () => {
  it('is refused by the owner (set aside, as before #15), her earlier reveal kept and the history verifying', async () => {
    const printer = await onDesktop(c, (s) => s.resolvePath('Acme/Printer'));
    await onDesktop(c, (s) => s.revealPassword(printer.id));
    expect(await answer(c)).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const ops = groupUidIn(a.file, team.opsId);
    clock.advance(1_000);
    const forged = await carolsReveal(team, vault, carolsChainTail(c.file), clock.now(), randomUUID(), ops);
    await (await teamClient(c)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [forged] } });
    expect(await answer(a)).toBe('ok');
    const aside = setAsideOn(a);
    expect(aside).toHaveLength(1);
    expect(aside[0]).toContain('an access group its event\'s author is not known here to have held');
    const rows = await onDesktop(a, async (s) => (await s.auditLog()).filter((r) => r.actor === CAROL && r.action === 'password.reveal'));
    expect(rows.length, 'carol\'s reveals in the owner\'s log: her real one only').toBe(1);
    expect(entryHeld(a.file, forged.entry ?? ''), 'no tombstone of the made-up entry').toBe(false);
    // Set aside, it is tried again at the next sync, and refused again: nothing of Ops was ever hers.
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toHaveLength(1);
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
  });
});
