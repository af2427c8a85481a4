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
 * "Comes with it" means in the same intake, across its pages (a pull page holds up to 1,000
 * records, and the winner's edit event may stand on a later page than its entry record):
 * GivenWayIntake gathers the edited entries page after page, and a re-seal to write over waits
 * (set aside, tried again with each later page) until the intake's last page is in.
 * Must never: write this desktop's version over an edit of the other side's without keeping it,
 * nor decide so while pages of the same intake, which may carry that edit's event, are to come.
 */
import type { ReplicaRecord } from '../../shared/sync/records';
import type { EditsAhead } from './store-edits-ahead';
import { ENTRY_CODE_ACTIONS, ENTRY_CONTENT_ACTIONS, ENTRY_WRITE_ACTIONS } from './store-unsent-writes';

export type GivenWayMove = 'take-theirs' | 'rewrite-mine' | 'conflict' | 'wait';

export interface GivenWayFacts {
  /** Both versions open to the same summary and details. */
  readonly sameContent: boolean;
  /** This desktop wrote to the entry since it last handed its changes on. */
  readonly writtenHere: boolean;
  /** The incoming record's revision, and the one this desktop last agreed on. */
  readonly revision: number;
  readonly agreed: number;
  /** An event of another device editing this entry comes in the same intake (its pages so far). */
  readonly editedElsewhere: boolean;
  /** Pages of the same intake are still to come (a pull not at the server's head yet). */
  readonly morePages: boolean;
}

export function givenWayMove(facts: GivenWayFacts): GivenWayMove {
  if (facts.sameContent || !facts.writtenHere) return 'take-theirs';
  if (facts.revision === facts.agreed + 1 && !facts.editedElsewhere) return facts.morePages ? 'wait' : 'rewrite-mine';
  return 'conflict';
}

/**
 * The entries another device's events say it edited, gathered over the pages of one intake (a
 * pull, page after page, up to the server's head): a page's edit event counts for an entry
 * record of an earlier page. A new intake starts after one whose last page came; an intake cut
 * off (a failed pull) goes on being gathered into the next, which can only make more conflict copies.
 */
export class GivenWayIntake {
  private edited = new Set<string>();
  /** Of those, the entries whose content another device changed, and those it took an HOTP code of (replica-both-changed.ts). */
  private contentEdited = new Set<string>();
  private codesTaken = new Set<string>();
  /** The entries whose records this intake brought, so far. */
  private recordsIn = new Set<string>();
  private open = false;

  /**
   * Notes a page's records before its entries are judged; `more`: pages of this intake are still to come.
   * Returns the entries this page's events of another device wrote to whose record this intake has not
   * brought (so far): events gone ahead of their record (store-edits-ahead.ts keeps them for its next intake),
   * of those not in this log already (`logged`): one taken before with its record, played back by a
   * dishonest server, waits for no record (hostile review of b93ad33).
   */
  page(records: readonly ReplicaRecord[], device: Buffer | undefined, more: boolean, logged: (eventId: string) => boolean = () => false): ReadonlyMap<string, EditsAhead> {
    if (!this.open) {
      this.edited = new Set();
      this.contentEdited = new Set();
      this.codesTaken = new Set();
      this.recordsIn = new Set();
    }
    for (const r of records) if (r.kind === 'entry') this.recordsIn.add(r.id);
    const written = entriesEditedIn(records, device);
    const changed = entriesEditedIn(records, device, ENTRY_CONTENT_ACTIONS);
    for (const id of written) this.edited.add(id);
    for (const id of changed) this.contentEdited.add(id);
    for (const id of entriesEditedIn(records, device, ENTRY_CODE_ACTIONS)) this.codesTaken.add(id);
    this.open = more;
    const unlogged = records.filter((r) => r.kind !== 'event' || !logged(r.id));
    const authors = editAuthorsIn(unlogged, device);
    const changedAhead = entriesEditedIn(unlogged, device, ENTRY_CONTENT_ACTIONS);
    const ahead = new Map<string, EditsAhead>();
    for (const id of entriesEditedIn(unlogged, device)) if (!this.recordsIn.has(id)) ahead.set(id, { kind: changedAhead.has(id) ? 'content' : 'write', authors: authors.get(id) });
    return ahead;
  }

  editedElsewhere(entry: string): boolean {
    return this.edited.has(entry);
  }

  /** An event of another device changing what the entry says comes in this intake. */
  contentEditedElsewhere(entry: string): boolean {
    return this.contentEdited.has(entry);
  }

  /** An event of another device taking an HOTP code of the entry comes in this intake. */
  codesTakenElsewhere(entry: string): boolean {
    return this.codesTaken.has(entry);
  }

  /** Pages of the intake being judged are still to come. */
  get morePages(): boolean {
    return this.open;
  }
}

/** The entries (global ids) an event of another device than `device` in `records` says it wrote to (by one of `actions`). */
export function entriesEditedIn(records: readonly ReplicaRecord[], device: Buffer | undefined, actions: readonly string[] = ENTRY_WRITE_ACTIONS): ReadonlySet<string> {
  const edited = new Set<string>();
  for (const r of records) {
    if (r.kind !== 'event' || r.entry === null || !actions.includes(r.action)) continue;
    if (device !== undefined && r.device !== null && Buffer.from(r.device, 'base64url').equals(device)) continue;
    edited.add(r.entry);
  }
  return edited;
}

/**
 * Who another device's write events in `records` say wrote to each entry (their actors' user ids);
 * undefined for an entry one of whose events names no actor (anyone's, then).
 */
function editAuthorsIn(records: readonly ReplicaRecord[], device: Buffer | undefined): ReadonlyMap<string, ReadonlySet<string> | undefined> {
  const authors = new Map<string, Set<string> | undefined>();
  for (const r of records) {
    if (r.kind !== 'event' || r.entry === null || !ENTRY_WRITE_ACTIONS.includes(r.action)) continue;
    if (device !== undefined && r.device !== null && Buffer.from(r.device, 'base64url').equals(device)) continue;
    const known = authors.has(r.entry) ? authors.get(r.entry) : new Set<string>();
    authors.set(r.entry, known === undefined || r.actor === null ? undefined : known.add(r.actor));
  }
  return authors;
}
