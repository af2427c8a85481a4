/**
 * The legitimate events naming an entry the receiver lacks, which it still takes (#15's emptied
 * tombstone) now that their author must be known there to have held the group (event-author.ts
 * mayHaveHeldGroup; event-names-unheld-entry.test.ts is the refusal):
 * - bob, a member of Ops, makes an entry there offline; the owner revokes him from Ops before he
 *   syncs. His desktop drops the unsent entry with the group, and the event of its making goes: the
 *   owner, who holds no membership row of bob in Ops any more (the revoke deleted it), takes it by
 *   the membership record it agreed before; the owner's second desktop, behind, takes the revoke and
 *   the event in one pull (member records before events).
 * - carol, made an admin (every group's key by her role), makes an entry in Ops offline and is
 *   demoted before she syncs: her event is taken by the by-role membership her demotion revoked.
 * - carol, an admin again, signs an event naming an entry of Ops the owner lacks: taken by her role.
 * Each time nothing is set aside and the owner's whole history verifies. A real team server
 * (PGlite, loopback HTTP), real vault files, the CLI's sync (test/support/team-desktops.ts).
 * Must never put a password in a process argument.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, entryUidIn, groupUidIn, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { carolsChainTail, carolsReveal } from '../support/carol-signs';
import { manualClock } from '../support/vault';
import { REPLICA_FORMAT } from '../../shared/sync/records';

const clock = manualClock(Date.UTC(2026, 11, 8, 1, 0, 0));
const team = useTeamDesktops('crewvault-event-held-author', clock);
const { a, a2, b, c, onDesktop, answer, teamClient } = team;

/** `who`'s events with `action` whose detail names `title`, in the audit log of `d` as its person reads it. */
async function eventsOf(d: Desktop, who: string, action: string, title: string): Promise<number> {
  return onDesktop(d, async (s) => (await s.auditLog()).filter((r) => r.actor === who && r.action === action && r.detail.includes(title)).length);
}

async function historyVerifies(d: Desktop): Promise<void> {
  expect(await onDesktop(d, async (s) => (await s.verifyAuditLog()).chain), `${d.name}'s whole history`).toMatchObject({ ok: true });
}

/** Whether the file holds the entry with global id `uid` as the emptied tombstone an event alone made of it (store-replica.ts isNamedOnlyEntry). */
function namedOnlyOn(d: Desktop, uid: string): boolean {
  const db = new Database(d.file, { readonly: true });
  try {
    const row = db.prepare<[Buffer], { key_version: number; revision: number }>('SELECT key_version, revision FROM entries WHERE uid = ?').get(Buffer.from(uid.replaceAll('-', ''), 'hex'));
    return row !== undefined && row.key_version === 0 && row.revision === 0;
  } finally {
    db.close();
  }
}

describe('an event naming an entry the owner lacks, by an author known to have held its group', () => {
  it('a revoked member\'s event of an entry he made in the group offline is taken, after the revoke and in the same pull', async () => {
    clock.advance(1_000);
    const rack = entryUidIn(b.file, (await onDesktop(b, (s) => s.createEntry({ customer: 'Acme', title: 'Bob Rack', password: 'rack-1', groupId: team.opsId }))).id);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await answer(a)).toBe('ok');
    // bob's sync takes his removal (the unsent entry dropped with the group) and sends the event of its making.
    expect(await answer(b)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    expect(await eventsOf(a, BOB, 'entry.create', 'Bob Rack'), 'bob\'s making of Bob Rack in the owner\'s log').toBe(1);
    expect(namedOnlyOn(a, rack), 'Bob Rack held by the owner as a tombstone named only').toBe(true);
    await historyVerifies(a);
    // The owner's second desktop, behind since before the revoke, takes the revoke and the event in one pull.
    expect(await answer(a2)).toBe('ok');
    expect(setAsideOn(a2)).toEqual([]);
    expect(await eventsOf(a2, BOB, 'entry.create', 'Bob Rack')).toBe(1);
    expect(namedOnlyOn(a2, rack)).toBe(true);
    await historyVerifies(a2);
  });

  it('a demoted admin\'s event of an entry she made offline in a group her role held is taken', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'admin', await s.team.userRevision(CAROL)));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    clock.advance(1_000);
    const core = entryUidIn(c.file, (await onDesktop(c, (s) => s.createEntry({ customer: 'Acme', title: 'Carol Core', password: 'core-1', groupId: team.opsId }))).id);
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'technician', await s.team.userRevision(CAROL)));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    expect(await eventsOf(a, CAROL, 'entry.create', 'Carol Core'), 'carol\'s making of Carol Core in the owner\'s log').toBe(1);
    expect(namedOnlyOn(a, core), 'Carol Core held by the owner as a tombstone named only').toBe(true);
    await historyVerifies(a);
  });

  it('an admin\'s event naming an entry of any group the owner lacks is taken', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'admin', await s.team.userRevision(CAROL)));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    clock.advance(1_000);
    const entry = randomUUID();
    const signed = await carolsReveal(team, vault, carolsChainTail(c.file), clock.now(), entry, groupUidIn(a.file, team.opsId));
    await (await teamClient(c)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [signed] } });
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    expect(namedOnlyOn(a, entry), 'the entry held as a tombstone named only').toBe(true);
    await historyVerifies(a);
  });
});
