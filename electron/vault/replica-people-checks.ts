/**
 * The checks every people record (`user`, `group`, `member`: shared/sync/records.ts) passes on a
 * desktop before it changes anything (#15, docs/SYNC.md), shared by replica-people-in.ts (changes
 * to people and groups this file knows) and replica-people-new.ts (people and groups new here):
 * signed by its author under a key of theirs in force here, the author not disabled, and — for a
 * group — managing it by what this desktop holds. A record that fails is VAULT_TAMPERED (set aside
 * through a server); one that cannot be taken in yet is CONFLICT.
 * Must never: let a record count whose signature does not hold under its author's key in force here.
 */
import { createHash } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { holdsAllGroups, ROLES, type Role } from '../../shared/policy';
import { managesLedGroups } from '../../shared/policy-writes';
import { recordSigningText, type MemberRecord, type PeopleRecord, type VaultObjectRecord } from '../../shared/sync/records';
import type { ReadDb, WriteDb } from './db';
import { contexts, type KeyRing } from './keys';
import type { SignedTriple } from './replica-verify';
import type { signingKeysInForce } from './store-audit';
import { openJson } from './crypto';
import { getGroupRow, groupKeysOfGroup, type GroupKeyRow } from './store-groups';
import { idByUid } from './store-replica';
import { foldRoleName, listCustomRoles, rolePermissions } from './store-roles';
import { getUser } from './store-users';

/** What taking people in needs of the apply under way. */
export interface PeopleIntake {
  readonly ring: KeyRing;
  /** This desktop's signed-in person. */
  readonly userId: number;
  readonly vault: string;
  readonly keys: ReturnType<typeof signingKeysInForce>;
  customerName(db: WriteDb, customerId: number): string;
  /** A signature check (the apply's memo of those checked ahead, verifying the rest here). */
  holds(triple: SignedTriple): boolean;
  /**
   * This batch reaches the server's head (a pull's last page). No longer taken as saying anything
   * of removals (review six: the server alone says it): a removal is a signed revoked member record.
   */
  readonly caughtUp: boolean;
  /**
   * A page of a pull with more pages to come (held records are tried again with each): a group
   * record may wait there for member records cut off onto a later page (replica-people-in.ts takeGroup).
   */
  readonly pagesFollow: boolean;
  readonly now: number;
  /** Told of each group this person was removed from: its name, and how many edits made here in it are dropped. */
  removed(group: string, droppedEdits: number): void;
  /**
   * Told of each group held here that a record from elsewhere deleted (replica-people-new.ts
   * takeDelete): its id, its name as this desktop knew it, and how many unsent changes made here in it were dropped.
   */
  groupDeleted(groupId: number, group: string, droppedChanges: number): void;
  /**
   * Told of each person whose unsent change made here crossed a record of them from elsewhere
   * (replica-people-in.ts takeUser): their name, and what was kept of each side (audited, reported).
   */
  crossed(user: string, detail: string): void;
  /**
   * Told of a revoke of this person's own that cannot be made (replica-own-key.ts giveWayToHeld: its rotation dropped,
   * as they no longer manage the group), once, when first noted: the member's and the group's names (audited);
   * `keyKept` when the revoke itself was stored and only its key change undone (the group keeps the key they held).
   */
  revokeUnmade(groupId: number, member: string, group: string, keyKept: boolean): void;
  /**
   * Told of a change of a group of this person's own, not sent, that they may no longer send (replica-group-unsent.ts:
   * a rename, no longer managing the group; the server codes setting, no longer an owner or admin), once, as the group
   * goes back to what was agreed: the group's name as shown now, what the change was, and why (audited).
   */
  groupChangeUnmade(groupId: number, group: string, change: string, why: string): void;
}

/** Who signed a people record, as this desktop holds them. */
export interface PeopleSigner {
  readonly id: number;
  readonly role: Role;
}

export const bin = (text: string): Buffer => Buffer.from(text, 'base64url');

/** The group_keys row member record `r` wraps for `userId` in group `groupId`, as it came. */
export function keyRowOf(groupId: number, userId: number, r: MemberRecord): GroupKeyRow {
  return {
    group_id: groupId, user_id: userId, key_version: r.keyVersion, wrapped_key: bin(r.wrappedKey), is_lead: r.lead ? 1 : 0,
    wrapped_secret_key: r.wrappedSecretKey === null ? null : bin(r.wrappedSecretKey), by_role: r.byRole ? 1 : 0,
  };
}
export const uidBytes = (text: string): Buffer => Buffer.from(text.replaceAll('-', ''), 'hex');
export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export function tampered(why: string): CrewvaultError {
  return new CrewvaultError('VAULT_TAMPERED', `A received record ${why}: nothing was applied.`);
}

export function notYet(why: string): CrewvaultError {
  return new CrewvaultError('CONFLICT', `A received record ${why}: it is set aside until it can be taken in.`);
}

/**
 * The role a user record gives, which is judged and stored as written: only a built-in role's id
 * or a custom role's name exactly as this vault holds it (review round twelve (a), hole 1). A name
 * that only folds to a role here ("Owner", "helpdesk" for "Helpdesk") is a second reading of one
 * record: the check would judge one role and the store keep another, so it is set aside
 * (VAULT_TAMPERED; the server refuses it too: server/sync/membership.ts). A role unknown here may be
 * defined by a record still to come: CONFLICT, tried again.
 */
export function canonicalRole(db: ReadDb, role: string): Role {
  const folded = foldRoleName(role);
  const found = [...ROLES, ...listCustomRoles(db).map((r) => r.name)].find((name) => foldRoleName(name) === folded);
  if (found === undefined) throw notYet('gives a role this desktop does not know');
  if (found !== role) throw tampered(`gives the role "${found}" spelt otherwise ("${role}"): a record names a role exactly as it is defined`);
  return found;
}

/** The signer of a people record (or a role, settings or MFA policy record: replica-vault-objects.ts), once their signature holds under a key of theirs in force here. */
export function signerOf(db: ReadDb, intake: PeopleIntake, r: PeopleRecord | VaultObjectRecord): PeopleSigner {
  const authorId = idByUid(db, 'users', uidBytes(r.author));
  const keyId = idByUid(db, 'signing_keys', uidBytes(r.signerKey));
  const key = keyId === undefined ? undefined : intake.keys.get(keyId);
  if (authorId === undefined || !key || key.user_id !== authorId) throw tampered('is signed with a key that is not its sender\'s');
  const { signature, ...unsigned } = r;
  if (!intake.holds({ publicKey: key.public_key, bytes: Buffer.from(recordSigningText(intake.vault, unsigned), 'utf8'), signature: bin(signature) })) {
    throw tampered('does not hold under its sender\'s signature');
  }
  const user = getUser(db, authorId);
  if (!user || user.disabled_at !== null) throw tampered('comes from a user who is disabled here');
  return { id: authorId, role: user.role };
}

/**
 * Whether a record that changes nothing here still holds under its sender's signature: only then
 * is its revision kept as agreed (a forged one must not move the agreed revision up and so make
 * the real records after it look stale).
 */
export function signedHere(db: ReadDb, intake: PeopleIntake, r: PeopleRecord): boolean {
  try {
    signerOf(db, intake, r);
    return true;
  } catch {
    return false;
  }
}

/** FORBIDDEN-as-tampered unless the signer manages the group by what this desktop holds. */
export function requireManages(db: ReadDb, signer: PeopleSigner, groupId: number): void {
  if (!managesHere(db, signer, groupId)) throw tampered('changes an access group its sender does not manage');
}

/** Whether `person` manages the group by what this desktop holds (owner, admin, or its lead with a role that manages groups). */
export function managesHere(db: ReadDb, person: PeopleSigner, groupId: number): boolean {
  if (holdsAllGroups(person.role)) return true;
  const lead = groupKeysOfGroup(db, groupId).some((gk) => gk.user_id === person.id && gk.is_lead === 1);
  return lead && managesLedGroups(rolePermissions(db, person.role));
}

/** A group's name as this desktop opens it, or a generic one (what is told never depends on it). */
export function groupNameHere(db: ReadDb, intake: PeopleIntake, groupId: number): string {
  const row = getGroupRow(db, groupId);
  try {
    const opened = row ? openJson(intake.ring.directoryKey, row.sealed_name, contexts.groupName(row)) : undefined;
    if (typeof opened === 'string') return opened;
  } catch {
    // Named generically below.
  }
  return 'an access group';
}
