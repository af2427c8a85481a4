/**
 * Review round twelve (b) hole 1, kept (#15, docs/SYNC.md "Events of groups one does not hold"): a
 * member who does not hold Ops — carol, whose own file names Ops's global id, as every member's
 * does — cannot tell which group a redacted v3 event is of. Its scope tag is keyed with Ops's scope
 * key (derived from the group's key, which carol never holds), so neither the old unkeyed formula
 * nor any key she can make from the ids her file names matches it; bob, who holds Ops, matches
 * every one with his own scope keys (the control: the tags are of Ops, and checkable by holders).
 * A real server (PGlite, loopback HTTP), real vault files and the real sync
 * (test/support/team-desktops.ts: bob in Ops, carol in the default group only).
 * Must never: put a password in a process argument, or pass without a redacted event to look at.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { scopeHashes } from '../../electron/vault/audit-event-texts';
import { uidText } from '../../electron/vault/ids';
import { eventScope, eventScopeUnnamed, scopeMatches } from '../../shared/sync/event-v3';
import { useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const world = useTeamDesktops('crewvault-v3-unlinkable', clock);
const { a, b, c, onDesktop, sync, setPassword } = world;
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function rows<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], T>(sql).all();
  } finally {
    db.close();
  }
}

describe('v3 scope tags: unlinkable by members who do not hold the group', () => {
  it('carol, who holds every group id but not Ops, matches no redacted event to a group; bob, who holds Ops, matches every one', async () => {
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    await setPassword(a, 'Acme/Switch', 's-2');
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(c)).code).toBe('ok');
    const redacted = rows<{ uid: Buffer; scope: Buffer }>(c.file, 'SELECT uid, scope FROM audit_log WHERE scope IS NOT NULL AND body_salt IS NULL');
    expect(redacted.length).toBeGreaterThan(0);
    // Every group global id carol's own file names: Ops's among them.
    const groups = rows<{ uid: Buffer }>(c.file, 'SELECT uid FROM access_groups').map((g) => uidText(g.uid));
    const opsUid = rows<{ uid: Buffer }>(a.file, `SELECT uid FROM access_groups WHERE id = ${world.opsId}`)[0]?.uid;
    if (!opsUid) throw new Error('no Ops');
    // What carol can compute from those ids: the old unkeyed tag, or a tag keyed with the id itself or its hash (naming the group, or by the rule before it named none).
    const guesses = (uid: string, g: string): string[] => [
      sha256Hex(JSON.stringify(['crewvault/v3 event scope', vault, uid, g])),
      ...[Buffer.from(g, 'utf8').toString('hex'), sha256Hex(g)].flatMap((key) => [eventScope(vault, uid, { key, group: g }, scopeHashes), eventScopeUnnamed(vault, uid, key, scopeHashes)]),
    ];
    const identified = redacted.filter((r) => groups.some((g) => guesses(uidText(r.uid), g).includes(r.scope.toString('hex'))));
    expect({ carolKnowsOpsId: groups.includes(uidText(opsUid)), identified: identified.length }).toEqual({ carolKnowsOpsId: true, identified: 0 });
    // Nor with the scope keys of the groups she does hold.
    const carolKeys = await onDesktop(c, (s) => s.replica.groupsOwedWhole());
    if (carolKeys === 'every') throw new Error('carol holds every group');
    expect(carolKeys.length).toBeGreaterThan(0);
    // Nor with them used as any group's (each group id her file names, Ops's among them), by either rule.
    const asAnyGroup = carolKeys.flatMap((k) => groups.map((g) => ({ ...k, group: g, derived: true })));
    expect(redacted.filter((r) => asAnyGroup.some((k) => scopeMatches(vault, uidText(r.uid), r.scope.toString('hex'), k, scopeHashes)))).toEqual([]);
    // The control: bob holds Ops, and his scope keys match every one of the events carol holds redacted.
    const bobKeys = await onDesktop(b, (s) => s.replica.groupsOwedWhole());
    if (bobKeys === 'every') throw new Error('bob holds every group');
    const matched = redacted.filter((r) => bobKeys.some((k) => scopeMatches(vault, uidText(r.uid), r.scope.toString('hex'), k, scopeHashes)));
    expect(matched.length).toBe(redacted.length);
  }, 120_000);
});
