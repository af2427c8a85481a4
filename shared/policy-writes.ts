/**
 * What a permission allows of a write, in one place for the team server and every desktop (#15,
 * task 15): which permissions an entry record needs, in which of its groups, given what the
 * receiver holds of the entry. The server asks it of a pusher's role (server/sync/membership.ts,
 * built-in or custom: the role records it stores), a desktop of a record's sender
 * (electron/vault/replica-service.ts requireAllowed). Group ids are the caller's own (global ids
 * on the server, row ids on a desktop). Must never: read anything but its arguments, or let a
 * change pass with fewer permissions than the desktop's own write path asks (team.ts, entries).
 */
import { holdsSecretKeys, type Permission } from './policy';

/** An entry as the receiver holds it, or as a record makes it. */
export interface EntryShape<G> {
  readonly group: G;
  readonly deleted: boolean;
}

/** One permission a write needs, in the group it names. */
export interface WriteNeed<G> {
  readonly permission: Permission;
  readonly group: G;
}

/**
 * The permissions a record making `next` out of `held` (undefined: the receiver holds no such
 * entry) needs: a new entry entries.create (a tombstone: entries.delete) in its group; deleting a
 * live one entries.delete in its group; a change, a restore or a move entries.edit in the group it
 * lands in, and a move entries.edit in the group it leaves too; a tombstone moved between groups
 * entries.edit in both; a tombstone kept as it was, nothing. A desktop lets one change more by a
 * lesser permission: an HOTP counter stepped on alone (otp.view), which it can see in the seal and
 * the server cannot — so the server asks entries.edit there (a codes-only person's desktop sends no
 * such record: replica-service.ts outgoing).
 */
export function entryWriteNeeds<G>(held: EntryShape<G> | undefined, next: EntryShape<G>): Array<WriteNeed<G>> {
  if (held === undefined) return [{ permission: next.deleted ? 'entries.delete' : 'entries.create', group: next.group }];
  const moved = held.group !== next.group;
  if (next.deleted) {
    if (!held.deleted) return [{ permission: 'entries.delete', group: held.group }];
    return moved ? [{ permission: 'entries.edit', group: held.group }, { permission: 'entries.edit', group: next.group }] : [];
  }
  return moved ? [{ permission: 'entries.edit', group: held.group }, { permission: 'entries.edit', group: next.group }] : [{ permission: 'entries.edit', group: next.group }];
}

/**
 * Where a desktop that never held an entry's earlier revisions judges a record of it from: a record
 * based on a revision the team held (`base` > 0, signed by its author, and the server stores a
 * record only over the revision it holds) is a change of an entry already made, taken as one standing
 * live in the record's group (entries.edit there; a tombstone entries.delete); only a record based on
 * nothing (`base` 0) is a new entry. Judged as new, its latest writer needed entries.create, and a
 * desktop granted the group after, or holding the group an entry was moved into, set aside for good
 * an edit or move by someone whose role never had it or lost it since (hostile review of #15).
 */
export function unheldEntryShape<G>(base: number, group: G): EntryShape<G> | undefined {
  return base > 0 ? { group, deleted: false } : undefined;
}

/** Whether a role with `permissions` manages the access groups its holder leads (rename, rotate, grant, revoke). */
export function managesLedGroups(permissions: readonly Permission[]): boolean {
  return permissions.includes('groups.manage');
}

/** Whether a role with `permissions` makes access groups: groups.manage, and a role given secret keys (a group's creator makes its secret key: team.ts createGroup). */
export function makesGroups(permissions: readonly Permission[]): boolean {
  return managesLedGroups(permissions) && holdsSecretKeys(permissions);
}
