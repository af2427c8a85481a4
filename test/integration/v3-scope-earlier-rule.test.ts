/**
 * Review of 02a52ce/eaf94eb (#15, docs/SYNC.md "Events of groups one does not hold"): a v3 tag
 * written by the rule before tags named their group (an HMAC under the scope key alone) cannot
 * tell groups apart, so matching it never refuses an event or holds back a chain.
 * Finding 1: alice (owner, holds Ops and Net) rotates Ops with Net's list key as Ops's new one
 * (team.ts rotate takes randomKey; a changed desktop can choose it), so the Ops scope key bob's
 * desktop derives equals Net's. carol's Net event tagged by the earlier rule reaches bob (Ops, not
 * Net) redacted: before, it matched his derived key, was refused as withheld and carol's later
 * event was held back behind it; now it is taken redacted, told in one line (sync, and `audit verify
 * --server` as a warning), and her later event follows.
 * Finding 2: an earlier-rule Ops event of a key version before a rotation, handed redacted (as a server withholding
 * it would) to carol granted Ops after that rotation: matched by a key carried in
 * Ops's list, told (before, carried keys matched no earlier-rule tag: taken unseen).
 * The earlier-rule events are made on the author's own file, re-signed with the author's key, as
 * a desktop from before 02a52ce signed them. Real server on PGlite over loopback HTTP, real vault
 * files and crypto, the real `crewvault` CLI. Must never: sleep on the wall clock (the clock is
 * injected), or print a key or password.
 */
import Database from 'better-sqlite3';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventScopeKey, scopeHashes } from '../../electron/vault/audit-event-texts';
import { randomKey } from '../../electron/vault/crypto';
import type { ReadDb, WriteDb } from '../../electron/vault/db';
import { writePage, pageOf, type PageItem } from '../../electron/vault/entry-pages';
import { resealEntry } from '../../electron/vault/entry-reseal';
import { wrapGroupFor } from '../../electron/vault/group-keys';
import { uidText } from '../../electron/vault/ids';
import { groupKey, type GroupKey, type KeyRing } from '../../electron/vault/keys';
import { keepKeyRotatedFrom } from '../../electron/vault/rotated-from-keys';
import { carryScopeKeysForward } from '../../electron/vault/scope-key-history';
import type { VaultSession } from '../../electron/vault/service';
import { signBytes, type Signer } from '../../electron/vault/signing';
import { storedEventBytes } from '../../electron/vault/store-audit';
import { listEntryRowsInGroups } from '../../electron/vault/store-entries';
import { groupKeysOfGroup, setGroupKeyVersion } from '../../electron/vault/store-groups';
import { deletePagesOfGroup } from '../../electron/vault/store-pages';
import { getUser } from '../../electron/vault/store-users';
import { Vault } from '../../electron/vault/vault';
import { eventBodyDigest, eventScopeUnnamed } from '../../shared/sync/event-v3';
import { VAULT_OBJECT_KINDS } from '../../shared/sync/records';
import { rechainAuditFrom } from '../support/audit-forger';
import { signerOf } from '../support/desktop-copies';
import { BOB, BOB_PASSWORD, CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditChainOf, readOneRow } from '../support/vault-file-reads';

const clock = manualClock();
const world = useTeamDesktops('v3-scope-earlier', clock);

/** The list key (a copy) of group `groupId` as `session`'s key ring holds it. */
function listKeyOf(session: VaultSession, groupId: number): Buffer {
  const key = (session as unknown as { ring: KeyRing }).ring.groups.get(groupId)?.key;
  if (key === undefined) throw new Error(`no key of group ${groupId} here`);
  return Buffer.from(key);
}

/**
 * Rotates `groupId` on the owner's `session` as team.ts rotate does (nobody left out), except that
 * the new list key is `listKey`: what a changed desktop can choose, team.ts taking randomKey.
 */
async function rotateWithListKey(session: VaultSession, groupId: number, listKey: Buffer): Promise<void> {
  const team = session.team as unknown as {
    writeRekeying(work: (w: WriteDb) => void): Promise<unknown>;
    inFlight: Map<number, GroupKey>;
    core: { readonly ring: KeyRing; user(): { readonly id: number }; customerName(db: ReadDb, customerId: number): string };
  };
  await team.writeRekeying((w) => {
    const old = team.core.ring.groups.get(groupId);
    if (old?.secret === undefined) throw new Error('the owner holds the group\'s keys');
    const next = groupKey(old.version + 1, Buffer.from(listKey), randomKey(), true, old.lead);
    carryScopeKeysForward(w, groupId, old, next);
    keepKeyRotatedFrom(w, groupId, old, { id: team.core.user().id, public_key: team.core.ring.keyPair.publicKey });
    const pages = new Map<number, PageItem[]>();
    for (const row of listEntryRowsInGroups(w, [groupId])) {
      const items = pages.get(pageOf(row.id)) ?? [];
      items.push(resealEntry(w, row, old, { groupId, key: next }, team.core.customerName(w, row.customer_id), row.updated_at));
      pages.set(pageOf(row.id), items);
    }
    deletePagesOfGroup(w, groupId);
    for (const [pageNo, items] of pages) writePage(w, next, groupId, pageNo, items);
    setGroupKeyVersion(w, groupId, next.version);
    for (const gk of groupKeysOfGroup(w, groupId)) {
      const user = getUser(w, gk.user_id);
      if (user !== undefined && user.disabled_at === null) wrapGroupFor(w, groupId, next, user, { lead: gk.is_lead === 1, byRole: gk.by_role === 1 }, team.core.ring.keysSeen);
    }
    team.inFlight.set(groupId, next);
  });
}

/**
 * The newest event of `groupId` on `d`'s file re-tagged by the earlier rule (under `scopeKey`, the
 * group's scope key as its author holds it) and re-signed with the author's key, the log's hashes,
 * head and keyed anchor moved with it: as a desktop from before 02a52ce wrote it. It must be the
 * last event of its device (nothing links to its signature yet). Returns its global id.
 */
async function toEarlierRule(d: Desktop, groupId: number, scopeKey: string, signer: Signer, auditKey: Buffer): Promise<Buffer> {
  const opened = Vault.open(d.file, clock);
  try {
    return (await opened.store.write((w) => {
      const vault = w.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'vault_id'").get()?.value;
      const row = w.prepare<[number], { id: number; uid: Buffer; prev_hash: Buffer; device_id: Buffer }>('SELECT id, uid, prev_hash, device_id FROM audit_log WHERE group_id = ? ORDER BY id DESC LIMIT 1').get(groupId);
      if (vault === undefined || row === undefined) throw new Error(`${d.name} holds no event of group ${groupId}`);
      if (w.prepare<[Buffer, number], { n: number }>('SELECT count(*) AS n FROM audit_log WHERE device_id = ? AND id > ?').get(row.device_id, row.id)?.n !== 0) throw new Error('an event follows it on its device');
      w.prepare('UPDATE audit_log SET scope = ? WHERE id = ?').run(Buffer.from(eventScopeUnnamed(vault, uidText(row.uid), scopeKey, scopeHashes), 'hex'), row.id);
      w.prepare('UPDATE audit_log SET signature = ? WHERE id = ?').run(signBytes(signer.privateKey, storedEventBytes(w, row.id)), row.id);
      rechainAuditFrom(w, row);
      const last = w.prepare<[], { id: number; hash: Buffer }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get();
      if (last === undefined) throw new Error('an empty log');
      w.prepare("UPDATE meta SET value = ? WHERE key = 'audit_anchor'").run(`${last.id}:${createHmac('sha256', auditKey).update(`${last.id}:${last.hash.toString('hex')}`, 'utf8').digest('hex')}`);
      return row.uid;
    })).value;
  } finally {
    await opened.close();
  }
}

/** The signer and the audit anchor's key `d`'s person holds (copies), and the list key of each of `groups`. */
async function keysOn(d: Desktop, groups: readonly number[]): Promise<{ readonly signer: Signer; readonly auditKey: Buffer; readonly lists: Map<number, Buffer> }> {
  return world.onDesktop(d, (s) => Promise.resolve({
    signer: signerOf(s), auditKey: Buffer.from((s as unknown as { ring: KeyRing }).ring.auditKey), lists: new Map(groups.map((g) => [g, listKeyOf(s, g)])),
  }));
}

/** The reasons of what `file` set aside. */
function setAside(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { reason: string }>('SELECT reason FROM replica_held').all().map((r) => r.reason);
  } finally {
    db.close();
  }
}

/** What `crewvault sync --json` told of events that may have been withheld. */
function toldWithheld(stdout: string): string | undefined {
  return (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { mayBeWithheld?: string }).mayBeWithheld;
}

describe('a v3 tag of the rule before tags named their group', () => {
  it('never refuses an event or holds back a chain when a rotation made an Ops key equal to Net\'s (finding 1): taken redacted, told; carol\'s later event follows', async () => {
    const { a, b, c, onDesktop, sync, setPassword, opsId, cli } = world;
    // Net: alice (the owner) and carol hold it, bob does not; Router in it.
    const netId = await onDesktop(a, async (s) => {
      const net = await s.team.createGroup('Net');
      await s.team.grant(net.id, CAROL, false, await s.team.groupRevision(net.id));
      await s.createEntries([{ customer: 'Acme', title: 'Router', password: 'r-1', groupId: net.id }]);
      return net.id;
    });
    // alice's changed desktop rotates Ops choosing Net's list key as Ops's next one.
    await onDesktop(a, async (s) => rotateWithListKey(s, opsId, listKeyOf(s, netId)));
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(b)).code).toBe('ok');
    const netScopeKey = await onDesktop(a, (s) => Promise.resolve(eventScopeKey(listKeyOf(s, netId))));
    const bobsKeys = await onDesktop(b, (s) => s.replica.groupsOwedWhole());
    if (bobsKeys === 'every') throw new Error('bob is owed every body');
    // bob's own Ops key (derived from the list key he holds) is Net's.
    expect(bobsKeys.filter((k) => k.key === netScopeKey).map((k) => k.derived)).toEqual([true]);

    // carol takes Net, edits Router (Net: handed to bob redacted) on her desktop from before 02a52ce (the earlier rule's tag), then Printer (the default group, bob's).
    expect((await sync(c)).code).toBe('ok');
    const carols = await keysOn(c, [netId]);
    await setPassword(c, 'Acme/Router', 'r-2');
    const netEvent = await toEarlierRule(c, netId, eventScopeKey(carols.lists.get(netId) ?? Buffer.alloc(0)), carols.signer, carols.auditKey);
    await setPassword(c, 'Acme/Printer', 'p-2');
    const later = readOneRow<{ uid: Buffer }>(c.file, 'SELECT uid FROM audit_log ORDER BY id DESC LIMIT 1');
    if (later === undefined) throw new Error('carol wrote no later event');
    expect(await auditChainOf(c.file, clock)).toMatchObject({ ok: true });
    expect((await sync(c)).code).toBe('ok');

    const synced = await sync(b);
    expect(synced.code).toBe('ok');
    // Nothing set aside (before: the Net event refused as "of a group this desktop holds: the server withheld it", carol's later event behind it).
    expect(setAside(b.file)).toEqual([]);
    expect(readOneRow<{ body_salt: Buffer | null; body_digest: Buffer | null }>(b.file, 'SELECT body_salt, body_digest FROM audit_log WHERE uid = ?', netEvent))
      .toEqual({ body_salt: null, body_digest: expect.any(Buffer) as unknown });
    expect(readOneRow<{ body_salt: Buffer | null }>(b.file, 'SELECT body_salt FROM audit_log WHERE uid = ?', later.uid)?.body_salt).toEqual(expect.any(Buffer));
    // Told in one line, naming the event.
    expect(toldWithheld(synced.stdout)).toMatch(new RegExp(`^1 audit event of a group you hold may have been withheld by the server \\(${uidText(netEvent)}\\): `));
    // audit verify --server (the server's history as bob is handed it): intact, with the same line as a warning.
    const verified = await cli(b, ['audit', 'verify', '--server', world.server.url, '--vault', b.file, '--user', BOB], [BOB_PASSWORD]);
    expect(verified.stdout).toMatch(/^Audit history on .* intact: /);
    expect(verified.stdout).toContain(`Warning: 1 audit event of a group you hold may have been withheld by the server (${uidText(netEvent)})`);
  }, 240_000);

  it('tells an earlier-rule event of a key version before a rotation, handed redacted to a member granted after it (finding 2), matched by a key carried in the list', async () => {
    const { a, c, onDesktop, sync, setPassword, opsId } = world;
    // Ops on a fresh key of its own again (the test above gave it Net's), then alice's Switch edit in Ops at that version, by the earlier rule.
    await onDesktop(a, async (s) => rotateWithListKey(s, opsId, randomBytes(32)));
    const alices = await keysOn(a, [opsId]);
    await setPassword(a, 'Acme/Switch', 's-9');
    const old = await toEarlierRule(a, opsId, eventScopeKey(alices.lists.get(opsId) ?? Buffer.alloc(0)), alices.signer, alices.auditKey);
    expect((await sync(a)).code).toBe('ok');
    // Ops rotated (a fresh key), then carol granted Ops: she holds only the new version, the old one carried in its list.
    await onDesktop(a, async (s) => {
      await rotateWithListKey(s, opsId, randomBytes(32));
      await s.team.grant(opsId, CAROL, false, await s.team.groupRevision(opsId));
    });
    expect((await sync(a)).code).toBe('ok');
    // A server withholding the event's body from carol: her next pull as the server hands it, the event in it redacted.
    const outcome = await onDesktop(c, async (s) => {
      const vault = await s.replica.vaultId();
      const client = await world.teamClient(c);
      const page = await client.call('syncPull', { vault, since: await s.replica.pulledUpTo(), kinds: [...VAULT_OBJECT_KINDS] });
      expect(page.more).toBe(false);
      const records = page.records.map((r) => r.record).map((r) => {
        if (r.kind !== 'event' || r.id !== uidText(old) || r.bodySalt === undefined) return r;
        const body = { saltHex: r.bodySalt, subject: r.subject, entry: r.entry, customer: r.customer, group: r.group, sealedDetailBase64: r.sealedDetail === null ? null : Buffer.from(r.sealedDetail, 'base64url').toString('base64') };
        const bodyDigest = eventBodyDigest(vault, r.id, body, scopeHashes.sha256Hex);
        const redacted = { ...r, subject: null, entry: null, customer: null, group: null, sealedDetail: null, bodyDigest };
        delete redacted.bodySalt;
        return redacted;
      });
      expect(records.filter((r) => r.kind === 'event' && r.id === uidText(old) && r.bodyDigest !== undefined)).toHaveLength(1);
      const applied = await s.replica.applyPulled(vault, records, { pulledUpTo: page.upTo, hold: true, caughtUp: true }, page.batches);
      // What syncOnce asks at a round's end to tell its line (sync.ts): this event.
      expect(await s.replica.mayBeWithheldSince()).toEqual([uidText(old)]);
      return applied;
    });
    // Taken redacted, nothing set aside, and marked for the line a sync tells (test above).
    expect(outcome.held).toEqual([]);
    expect(outcome.mayBeWithheld).toEqual([uidText(old)]);
    expect(readOneRow<{ body_salt: Buffer | null }>(c.file, 'SELECT body_salt FROM audit_log WHERE uid = ?', old)).toEqual({ body_salt: null });
    const carolsKeys = await onDesktop(c, (s) => s.replica.groupsOwedWhole());
    if (carolsKeys === 'every') throw new Error('carol is owed every body');
    expect(carolsKeys.filter((k) => k.key === eventScopeKey(alices.lists.get(opsId) ?? Buffer.alloc(0))).map((k) => k.derived)).toEqual([false]);
    expect(setAside(c.file)).toEqual([]);
  }, 240_000);
});
