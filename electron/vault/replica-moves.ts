/**
 * Moves of an entry this desktop did not see (schema 31; SECURITY.md Known limits, the missed move;
 * docs/SYNC.md "A move a desktop did not see"). The team server keeps an entry's newest record
 * only: a desktop that synced neither a move of an entry nor the change after it judged that change
 * against the group it last saw the entry in, and set aside for good a delete or an edit made,
 * where the entry had gone, by someone who does not hold that group. The server now hands, with
 * the entry's record, the signed records that moved it (the last few kept)
 * (server/store/entry-moves.ts); the record is judged from where they put it, once each holds as
 * a record taken in does: its author's signature (or its batch's) under a key of theirs in force
 * here, the author not disabled, a record of that same entry at a revision above the one agreed
 * here and below the record judged, naming a group known here, and its author allowed to make
 * that change from where the entry stands (shared/policy-writes.ts, both groups' memberships as
 * this desktop knows them). Followed in revision order, through several moves (A→B→C), at most
 * MAX_MOVES_FOLLOWED; the first that does not hold ends the chain where it stands.
 * Must never: judge a record on the server's word alone (an unsigned, forged or replayed move, or
 * one of another entry, moves nothing: the record is judged where the entry stands here, as before).
 */
import { isCrewvaultError } from '../../shared/errors';
import type { Permission } from '../../shared/policy';
import { entryWriteNeeds, type EntryShape } from '../../shared/policy-writes';
import type { EntryRecord } from '../../shared/sync/records';

/** How many moves of one entry are followed (the server keeps as many: MOVES_KEPT). */
export const MAX_MOVES_FOLLOWED = 8;

/** Where an entry stands here: its group (row id), whether deleted, and the revision agreed there. */
export interface MoveStanding extends EntryShape<number> {
  readonly revision: number;
}

export interface MoveChecks<A> {
  /** The move's author once its signature holds here and they are not disabled (ReplicaService.sender); throws VAULT_TAMPERED or CONFLICT. */
  readonly vouched: (move: EntryRecord) => A;
  /** The group's row id here, undefined when it is unknown or deleted here. */
  readonly groupHere: (uid: string) => number | undefined;
  /** Whether the author may do `permission` in `group` (holds its key here, and their role allows it). */
  readonly may: (author: A, permission: Permission, group: number) => boolean;
}

/** Where the moves of `r`'s entry handed with it put the entry standing at `from`, as far as each holds (`from` itself when none does). */
export function standingAfterMoves<A>(from: MoveStanding, r: EntryRecord, moves: readonly EntryRecord[], checks: MoveChecks<A>): EntryShape<number> {
  const chain = moves.filter((m) => m.id === r.id && m.revision > from.revision && m.revision < r.revision)
    .sort((x, y) => x.revision - y.revision).slice(0, MAX_MOVES_FOLLOWED);
  let at: EntryShape<number> = { group: from.group, deleted: from.deleted };
  let revision = from.revision;
  for (const move of chain) {
    // Two records of one revision (a dishonest server's pick of a refused push beside the stored one): neither is followed past.
    if (move.revision <= revision) break;
    let author: A;
    try {
      author = checks.vouched(move);
    } catch (error) {
      if (!isCrewvaultError(error) || (error.code !== 'VAULT_TAMPERED' && error.code !== 'CONFLICT')) throw error;
      break;
    }
    const group = checks.groupHere(move.group);
    if (group === undefined) break;
    const next = { group, deleted: move.deletedAt !== null };
    if (!entryWriteNeeds(at, next).every((need) => checks.may(author, need.permission, need.group))) break;
    at = next;
    revision = move.revision;
  }
  return at;
}
