/**
 * An entry changed on this desktop and on another since they last agreed (docs/SYNC.md, "Each
 * entry and customer record"): which version stands, decided from what each side's change was.
 * Only the decision; the writes stay in replica-service.ts. A change that says nothing new — an
 * HOTP code's counter step, a key rotation's re-seal — never makes a conflict copy and never
 * undoes a delete; only an edit of what the entry says is kept beside the other side's version.
 * - Both versions open to the same content (the same edit made twice), or both are deletes: agreed.
 * - This desktop's change says nothing new (no edit, move or delete of it in its own unsent log:
 *   store-unsent-writes.ts): theirs stands — a delete too — its HOTP counter raised to this side's
 *   where this side's is higher (the caller), so a used code is never shown again.
 * - This desktop deleted it: where theirs only stepped the counter or re-sealed it (an HOTP code of
 *   another device in the intake, or one write past the agreed revision under a newer key version,
 *   and no edit of it by another device in the intake) the delete stands and is sent again over
 *   theirs; decided once the intake's last page is in (an edit event may come on a later one).
 *   An edit beside the delete is kept (the delete loses, as before), and so is a change nothing
 *   in the intake explains: never a silent loss.
 * - Else this desktop edited it: a conflict copy (or, differing only in the HOTP counter, the merge).
 * Must never: drop an edit of either side without a copy, nor lower an HOTP counter either side holds.
 */

export type BothChangedMove = 'take-theirs' | 'keep-delete' | 'wait' | 'edited-here';

export interface BothChangedFacts {
  readonly deletedHere: boolean;
  readonly deletedThere: boolean;
  /** Both live, in the same group and customer, opening to the same summary and details. */
  readonly sameContent: boolean;
  /** This desktop's own log holds an unsent edit, move or delete of the entry. */
  readonly contentWrittenHere: boolean;
  /** An event of another device editing, moving or deleting the entry comes in the intake. */
  readonly contentEditedElsewhere: boolean;
  /** An event of another device taking an HOTP code of the entry comes in the intake. */
  readonly codesTakenElsewhere: boolean;
  /** Theirs is one write past the agreed revision, in the same group and customer, under a newer key version than this side's. */
  readonly resealedElsewhere: boolean;
  /** Pages of the same intake are still to come. */
  readonly morePages: boolean;
}

export function bothChangedMove(f: BothChangedFacts): BothChangedMove {
  if (f.sameContent || (f.deletedHere && f.deletedThere)) return 'take-theirs';
  if (!f.deletedHere) return f.contentWrittenHere ? 'edited-here' : 'take-theirs';
  const nothingNewThere = !f.contentEditedElsewhere && (f.codesTakenElsewhere || f.resealedElsewhere);
  if (!nothingNewThere) return 'take-theirs';
  return f.morePages ? 'wait' : 'keep-delete';
}
