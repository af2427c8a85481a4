/**
 * A group's earlier event scope keys, carried across its key rotations (#15, docs/SYNC.md "Events of
 * groups one does not hold", the key-rotation limit). A v3 event's scope tag is keyed with the scope
 * key of the group's list key at the version its author held (audit-event-texts.ts eventScopeKey),
 * and a member keeps one version of a group's key, so a holder granted after a rotation could match
 * no tag written before it: a server withholding such a body from them went unseen. The rotating
 * desktop now seals the scope keys of every earlier version (those it could open, and the version it
 * rotates from) under the new list key; the group record carries the sealed list (`sealedScopeKeys`,
 * signed with the record), every desktop keeps the newest it took (meta, this file's own), and a
 * holder of that version opens it. Someone cut off at a rotation is never given the new list key, so
 * what is sealed after it opens nothing for them: they link no event they did not hold the key of.
 * The list is its signer's word: a key in it is matched only as this group's (a tag names its group:
 * shared/sync/event-v3.ts eventScope), so a key of another group sealed into it (review round
 * fourteen) matches none of that group's events.
 * Must never: seal the list under anything but the group's list key at the version it names, or open
 * it with a key of another version (the AEAD context names the group and the version).
 */
import type { HeldScopeKey } from '../../shared/sync/event-v3';
import type { GroupRecord } from '../../shared/sync/records';
import { eventScopeKey, scopeKeysOwed, type ScopeKeySource } from './audit-event-texts';
import { openJson, sealJson, type SealContext } from './crypto';
import type { ReadDb, WriteDb } from './db';
import { uidText } from './ids';
import type { GroupKey } from './keys';
import { uidBytes } from './replica-people-checks';
import { getGroupRow } from './store-groups';
import { refOf } from './store-ids';
import { idByUid } from './store-replica';
import { getMeta, setMeta } from './store-meta';

const metaKey = (groupId: number): string => `scope_history:${groupId}`;

/** Where the list lives, bound into its seal: the group (global id) and the version whose list key seals it. */
function historyContext(groupUid: string, version: number): SealContext {
  return { table: 'access_groups', row: undefined, uid: groupUid, field: 'scope_history', keyVersion: version };
}

/** The sealed list this file keeps for `groupId` and the version it is sealed at, if any. */
export function sealedScopeHistory(db: ReadDb, groupId: number): { readonly version: number; readonly sealed: Buffer } | undefined {
  const match = /^(\d+):([A-Za-z0-9_-]+)$/.exec(getMeta(db, metaKey(groupId)) ?? '');
  return match ? { version: Number(match[1]), sealed: Buffer.from(match[2] ?? '', 'base64url') } : undefined;
}

function keep(db: WriteDb, groupId: number, version: number, sealed: Buffer): void {
  setMeta(db, metaKey(groupId), `${version}:${sealed.toString('base64url')}`);
}

const isScopeKey = (k: unknown): k is string => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k);

/** The earlier scope keys (hex) of `groupId` that `held` (the version this person holds) opens; none when the list kept is of another version or does not open. */
export function earlierScopeKeys(db: ReadDb, groupId: number, held: GroupKey): readonly string[] {
  const kept = sealedScopeHistory(db, groupId);
  if (kept === undefined || kept.version !== held.version) return [];
  try {
    const keys = openJson(held.key, kept.sealed, historyContext(uidText(refOf(db, 'access_groups', groupId).uid), held.version));
    return Array.isArray(keys) ? keys.filter(isScopeKey) : [];
  } catch {
    return [];
  }
}

/** At a rotation from `old` to `next` (team.ts rotate): the earlier keys `old` opens and `old`'s own, sealed under `next`'s list key. */
export function carryScopeKeysForward(db: WriteDb, groupId: number, old: GroupKey, next: GroupKey): void {
  const keys = [...new Set([...earlierScopeKeys(db, groupId, old), eventScopeKey(old.key)])];
  keep(db, groupId, next.version, sealJson(next.key, keys, historyContext(uidText(refOf(db, 'access_groups', groupId).uid), next.version)));
}

/**
 * A rotation of this desktop's own dropped for the version the server holds (replica-own-key.ts giveWayToHeld): the
 * list it sealed at `from`, less the scope key of `to` (which `to`'s holders derive), sealed again at `to`.
 */
export function carryScopeKeysBack(db: WriteDb, groupId: number, from: GroupKey, to: GroupKey): void {
  const own = eventScopeKey(to.key);
  const keys = earlierScopeKeys(db, groupId, from).filter((k) => k !== own);
  keep(db, groupId, to.version, sealJson(to.key, keys, historyContext(uidText(refOf(db, 'access_groups', groupId).uid), to.version)));
}

/** The group record's field for the list kept at the group's version `version` (none when there is none of it). */
export function scopeHistoryField(db: ReadDb, groupId: number, version: number): { readonly sealedScopeKeys?: string } {
  const kept = sealedScopeHistory(db, groupId);
  return kept?.version === version ? { sealedScopeKeys: kept.sealed.toString('base64url') } : {};
}

/**
 * A group record taken in (replica-people-in.ts, after its own checks held): its list kept when it is
 * of the version the group is at here and no older than the one kept. A holder of that version could
 * seal a list leaving keys out (a lead can do as much by rotating) or adding some: an added key matches
 * only tags naming this group under it, so another group's key matches none of that group's events.
 */
export function takeScopeHistory(db: WriteDb, r: GroupRecord): void {
  if (r.sealedScopeKeys === undefined) return;
  const groupId = idByUid(db, 'access_groups', uidBytes(r.id));
  if (groupId === undefined || getGroupRow(db, groupId)?.key_version !== r.keyVersion) return;
  const kept = sealedScopeHistory(db, groupId);
  if (kept !== undefined && kept.version > r.keyVersion) return;
  keep(db, groupId, r.keyVersion, Buffer.from(r.sealedScopeKeys, 'base64url'));
}

/** For scopeKeysOwed: each held group's earlier scope keys, as this file keeps them and `groups` (a key ring's) opens them. */
export function earlierScopeKeysOf(db: ReadDb, groups: ReadonlyMap<number, GroupKey>): (groupId: number) => readonly string[] {
  return (groupId) => {
    const held = groups.get(groupId);
    return held === undefined ? [] : earlierScopeKeys(db, groupId, held);
  };
}

/**
 * The scope keys a person is owed whole by (`owed`: store-replica.ts groupsOwedWhole), as `ring` holds
 * them and this file keeps the earlier ones, each named by its group's global id: a key carried here
 * is the list's signer's word only, so it refuses only by tags naming its group (shared/sync/event-v3.ts
 * scopeMatches), never another group's whose key that signer planted (review round fourteen); an
 * earlier-rule tag (no group named) matched under any of these keys only tells (may be withheld).
 */
export function scopeKeysOwedHere(db: ReadDb, owed: readonly number[] | 'every', ring: ScopeKeySource & { readonly groups: ReadonlyMap<number, GroupKey> }): readonly HeldScopeKey[] | 'every' {
  return scopeKeysOwed(owed, ring, (groupId) => uidText(refOf(db, 'access_groups', groupId).uid), earlierScopeKeysOf(db, ring.groups));
}
