/**
 * Two rotations at once, this desktop's own never sent (review six hole 4; replica-people-in.ts
 * giveWay): how an entry of the group it gave way in is settled when both sides hold a version
 * the other has not agreed on. Only the decision; the writes stay in replica-service.ts.
 *
 * The other side's rotation re-sealed every entry of the group at one revision past the agreed
 * one, saying what the agreed version said. So:
 * - both versions say the same: this desktop's change was its own rotation's re-seal: take theirs;
 * - this desktop wrote nothing to the entry since it last sent (store-unsent-writes.ts): its
 *   version says what the agreed one said, so theirs, saying something else, is a real edit: take it;
 * - theirs is one revision past the agreed one and no edit of the entry by another device comes
 *   with it: their re-seal, under which this desktop's unsent edit is written again;
 * - anything else (theirs an edit too): a conflict copy, as for any entry changed on both sides.
 * Must never: write this desktop's version over an edit of the other side's without keeping it.
 */
import type { ReplicaRecord } from '../../shared/sync/records';
import { ENTRY_WRITE_ACTIONS } from './store-unsent-writes';

export type GivenWayMove = 'take-theirs' | 'rewrite-mine' | 'conflict';

export interface GivenWayFacts {
  /** Both versions open to the same summary and details. */
  readonly sameContent: boolean;
  /** This desktop wrote to the entry since it last handed its changes on. */
  readonly writtenHere: boolean;
  /** The incoming record's revision, and the one this desktop last agreed on. */
  readonly revision: number;
  readonly agreed: number;
  /** An event of another device editing this entry comes in the same intake. */
  readonly editedElsewhere: boolean;
}

export function givenWayMove(facts: GivenWayFacts): GivenWayMove {
  if (facts.sameContent || !facts.writtenHere) return 'take-theirs';
  if (facts.revision === facts.agreed + 1 && !facts.editedElsewhere) return 'rewrite-mine';
  return 'conflict';
}

/** The entries (global ids) an event of another device than `device` in `records` says it wrote to. */
export function entriesEditedIn(records: readonly ReplicaRecord[], device: Buffer | undefined): ReadonlySet<string> {
  const edited = new Set<string>();
  for (const r of records) {
    if (r.kind !== 'event' || r.entry === null || !ENTRY_WRITE_ACTIONS.includes(r.action)) continue;
    if (device !== undefined && r.device !== null && Buffer.from(r.device, 'base64url').equals(device)) continue;
    edited.add(r.entry);
  }
  return edited;
}
