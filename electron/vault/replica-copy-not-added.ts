/**
 * An entry changed on this desktop and on another from a common base keeps both (docs/SYNC.md):
 * the other side's version stands and this desktop's is kept as a conflict copy, sent as a new
 * entry (ReplicaService.conflictCopy). A copy is a new entry, which no push of this person's may
 * carry without entries.create (the server and every desktop ask it: Sender.whyNotVouch), so for a
 * role with entries.edit and not entries.create a copy would stay on this desktop for good, sent
 * never, and the team never told (last session's review, LOW 2). As for an entry that left their
 * reach (replica-left-reach.ts): their change is dropped instead, told in the sync's line and
 * audited as `group.changes_dropped`, reason NOT_COPIED, naming the entry (its own row) and no
 * name in plain text. Must never: drop a change unsaid, or keep a copy no push of theirs can carry.
 */
import type { Permission } from '../../shared/policy';

/** The reason code (the event's subject) of a `group.changes_dropped` event for a change of an entry changed elsewhere too, no copy kept. */
export const NOT_COPIED = 'not_copied';

/** Whether a role with `permissions` may keep its own version of an entry changed elsewhere too as a copy beside it (a new entry: entries.create). */
export function mayKeepCopy(permissions: readonly Permission[]): boolean {
  return permissions.includes('entries.create');
}

/** The sealed detail of a `group.changes_dropped` event of reason NOT_COPIED: what went, and why; no name. */
export function notCopiedText(): string {
  return '1 unsent change made here dropped, your change of the entry: it was changed on another desktop too, whose version stands, and your role may not add entries (entries.create), so no copy of it could be kept';
}

/** One line for a person: how many of their changes went so (undefined: none). */
export function notCopiedLine(count: number): string | undefined {
  if (count === 0) return undefined;
  const one = count === 1;
  return `${count} change${one ? '' : 's'} of an entry made here ${one ? 'was' : 'were'} dropped: ${one ? 'it was' : 'they were'} changed on another desktop too, whose version stands, and your role may not add entries (entries.create), so no copy of ${one ? 'it' : 'them'} could be kept.`;
}
