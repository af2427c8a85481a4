/**
 * Review round fourteen, "a planted sealedScopeKeys list" (#15, docs/SYNC.md "Events of groups one
 * does not hold", the key-rotation paragraph): the earlier scope keys a group record carries are
 * its signer's word, so alice, who holds Ops and Net, rotates Ops and seals Net's scope key into
 * Ops's list. bob holds Ops (and the default group), not Net. Before, the tag was an HMAC under the
 * key alone: bob's desktop matched carol's honest Net event, handed to him redacted, with the key
 * planted as Ops's, refused it as withheld and held back carol's later events behind it. Now a
 * group's tag names the group, and a key carried in a list matches only tags naming its group: the
 * planted key matches none of Net's, the event is taken redacted and carol's later event follows;
 * the honest keys in the same list still match Ops's events from before the rotation.
 * Real server on PGlite over loopback HTTP, real vault files and crypto, the real `crewvault` sync;
 * the dishonest list is alice's own desktop's, sealed under Ops's new list key as a forger would.
 * Must never: sleep on the wall clock (the clock is injected), or print a key or password.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { eventScopeKey, scopeHashes } from '../../electron/vault/audit-event-texts';
import { openJson, sealJson, type SealContext } from '../../electron/vault/crypto';
import { uidText } from '../../electron/vault/ids';
import { scopeMatches, type HeldScopeKey } from '../../shared/sync/event-v3';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { FAST_KDF, manualClock } from '../support/vault';
import { auditChainOf, readOneRow } from '../support/vault-file-reads';

const clock = manualClock();
const world = useTeamDesktops('v3-scope-planted', clock);
const DAN = 'dan';

/** The newest v3 event of `groupId` `d`'s file holds (its global id and scope tag, hex). */
function newestEventOf(d: Desktop, groupId: number): { readonly uid: Buffer; readonly id: string; readonly scope: string } {
  const row = readOneRow<{ uid: Buffer; scope: Buffer | null }>(d.file, 'SELECT uid, scope FROM audit_log WHERE group_id = ? ORDER BY id DESC LIMIT 1', groupId);
  if (row?.scope === null || row === undefined) throw new Error(`${d.name} signed no v3 event of group ${groupId}`);
  return { uid: row.uid, id: uidText(row.uid), scope: row.scope.toString('hex') };
}

/** The list key (a copy) of each group `session`'s key ring holds, read from outside as a forger holding them would. */
function listKeysOf(session: unknown): Map<number, { readonly version: number; readonly key: Buffer }> {
  const groups = (session as { ring: { groups: ReadonlyMap<number, { version: number; key: Buffer }> } }).ring.groups;
  return new Map([...groups].map(([id, g]) => [id, { version: g.version, key: Buffer.from(g.key) }]));
}

describe('a scope key planted in another group\'s list', () => {
  it('matches none of that other group\'s events: carol\'s honest Net event reaches bob redacted, not as withheld, and her later events follow', async () => {
    const { a, b, c, onDesktop, sync, setPassword, opsId } = world;
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    // Net: alice (the owner) and carol hold it, bob does not; Router in it.
    const netId = await onDesktop(a, async (s) => {
      const net = await s.team.createGroup('Net');
      await s.team.grant(net.id, CAROL, false, await s.team.groupRevision(net.id));
      await s.createEntries([{ customer: 'Acme', title: 'Router', password: 'r-1', groupId: net.id }]);
      await s.createUser(DAN, 'technician', 'dan is here for a day', FAST_KDF);
      await s.team.grant(opsId, DAN, false, await s.team.groupRevision(opsId));
      return net.id;
    });
    // E0: alice's edit of Switch in Ops at key version 1, before the rotation.
    await setPassword(a, 'Acme/Switch', 's-2');
    const e0 = newestEventOf(a, opsId);
    expect((await sync(a)).code).toBe('ok');

    // alice cuts dan off (Ops to version 2), and her desktop seals Net's scope key into Ops's list beside the honest ones.
    const { opsUid, netScopeKey } = await onDesktop(a, async (s) => {
      await s.team.revoke(opsId, DAN, await s.team.memberRevision(opsId, DAN));
      const keys = listKeysOf(s);
      const ops = keys.get(opsId);
      const net = keys.get(netId);
      if (ops === undefined || net === undefined) throw new Error('alice holds Ops and Net');
      const db = new Database(a.file);
      try {
        const uid = uidText(db.prepare<[number], { uid: Buffer }>('SELECT uid FROM access_groups WHERE id = ?').get(opsId)?.uid ?? Buffer.alloc(0));
        const metaKey = `scope_history:${opsId}`;
        const kept = /^(\d+):(.+)$/.exec(db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(metaKey)?.value ?? '');
        expect(Number(kept?.[1])).toBe(ops.version);
        // The seal's context as scope-key-history.ts names it: the group and the version whose list key seals the list.
        const context: SealContext = { table: 'access_groups', row: undefined, uid, field: 'scope_history', keyVersion: ops.version };
        const honest = openJson(ops.key, Buffer.from(kept?.[2] ?? '', 'base64url'), context) as string[];
        const planted = sealJson(ops.key, [...honest, eventScopeKey(net.key)], context);
        db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(`${ops.version}:${planted.toString('base64url')}`, metaKey);
        return { opsUid: uid, netScopeKey: eventScopeKey(net.key) };
      } finally {
        db.close();
      }
    });
    expect((await sync(a)).code).toBe('ok');

    // bob takes Ops's record at version 2 and the list in it: Net's key is among his keys, as Ops's (the planting took).
    expect((await sync(b)).code).toBe('ok');
    const bobsKeys = await onDesktop(b, (s) => s.replica.groupsOwedWhole());
    if (bobsKeys === 'every') throw new Error('bob is owed every body');
    expect(bobsKeys.filter((k) => k.key === netScopeKey)).toEqual([{ group: opsUid, key: netScopeKey, derived: false }]);
    // The honest carry-forward in the same list: E0 (Ops, version 1) is matched by a key carried into version 2, not by bob's own.
    const carried = bobsKeys.filter((k: HeldScopeKey) => scopeMatches(vault, e0.id, e0.scope, k, scopeHashes));
    expect(carried.map((k) => ({ group: k.group, derived: k.derived }))).toEqual([{ group: opsUid, derived: false }]);

    // carol takes Net's key and Router, edits Router (Net, which bob does not hold: the server hands it to him redacted), then Printer (the default group, which he holds).
    expect((await sync(c)).code).toBe('ok');
    await setPassword(c, 'Acme/Router', 'r-2');
    const netEvent = newestEventOf(c, netId);
    await setPassword(c, 'Acme/Printer', 'p-2');
    const later = readOneRow<{ uid: Buffer }>(c.file, 'SELECT uid FROM audit_log ORDER BY id DESC LIMIT 1');
    if (later === undefined) throw new Error('carol wrote no later event');
    expect((await sync(c)).code).toBe('ok');

    expect((await sync(b)).code).toBe('ok');
    // Nothing set aside (before: the Net event refused as "of a group this desktop holds: the server withheld it", and carol's later event behind it).
    const heldAside = new Database(b.file, { readonly: true });
    try {
      expect(heldAside.prepare<[], { reason: string }>('SELECT reason FROM replica_held').all().map((r) => r.reason)).toEqual([]);
    } finally {
      heldAside.close();
    }
    // The Net event is in bob's log redacted, and carol's later event whole after it.
    expect(readOneRow<{ body_salt: Buffer | null; body_digest: Buffer | null; group_id: number | null }>(b.file, 'SELECT body_salt, body_digest, group_id FROM audit_log WHERE uid = ?', netEvent.uid))
      .toEqual({ body_salt: null, body_digest: expect.any(Buffer) as unknown, group_id: null });
    expect(readOneRow<{ body_salt: Buffer | null }>(b.file, 'SELECT body_salt FROM audit_log WHERE uid = ?', later.uid)?.body_salt).toEqual(expect.any(Buffer));
    // No key bob holds, the planted one included, matches the Net event's tag.
    expect(bobsKeys.filter((k) => scopeMatches(vault, netEvent.id, netEvent.scope, k, scopeHashes))).toEqual([]);
    for (const d of [b, c]) expect(await auditChainOf(d.file, clock), d.name).toMatchObject({ ok: true });
  }, 240_000);
});
