/**
 * One round of team sync for a signed-in vault session and a server session (docs/SYNC.md):
 * take in what others pushed since the sequence this replica holds, then push this replica's
 * own changes; when the server names conflicts (someone pushed the same entries first), take
 * theirs in — this replica's versions become conflict copies, or HOTP counters merge — and push
 * again. `move` first pushes the whole vault, as its owner moving it onto the server does, and
 * binds the vault to that server; without `move`, a vault not bound to this server (requireBound)
 * takes in what it is handed and pushes nothing.
 * Must never: mark a change sent before the server has stored it, or push to a server the vault
 * was not moved to or filled from.
 */
import { CrewvaultError } from '../../shared/errors';
import { MAX_BATCH_RECORDS, REPLICA_FORMAT, VAULT_OBJECT_KINDS, type ReplicaRecord } from '../../shared/sync/records';
import { mayHoldSecretKeyIn } from '../../shared/policy';
import type { RecordBatch } from '../../shared/sync/record-batches';
import { isRefusal, type ApplyOutcome, type HistoryMark, type Outgoing, type ReplicaService, type RevokeUnmadeTold, type TeamServerBinding } from '../vault/replica-service';
import { groupDeletedLine } from '../vault/replica-people-new';
import type { OldDeviceLeft } from '../vault/store-audit';
import type { VerifiedSignatures } from '../vault/replica-verify';
import type { ServerRouteOutput } from '../../shared/api/server-contract';
import { askedAhead, type TeamClient } from './client';
import { firstSync, takeHistory } from './first-sync';
import { handsMoves, requireServerSchema, takesPulled, tellsHistoryMarks, tellsLeftReach, tellsLeftRecords } from './server-schema';
import { leftReachLine, leftUnverifiedLine, type LeftTold } from '../vault/replica-left-reach';
import { notCopiedLine } from '../vault/replica-copy-not-added';
import { snapshotPage } from './snapshot-page';
import { eventsNotSentLine } from '../vault/store-events-not-sent';
import { mayBeWithheldLine } from '../vault/audit-event-texts';

/** Pages smaller than this are checked when applied (a stream's small pages gain nothing from starting early). */
const CHECK_AHEAD_FROM = 64;
/** Pushes that meet conflicts are tried again this many times (each after taking the others' in). */
const PUSH_ROUNDS = 3;
/** What one push carries at most: well under the server's 16 MiB body, and its record count. */
export const PART_BYTES = 12 * 1024 * 1024;

/** The signed batches (record format 2) a part's records name: each part carries those, whole, and no other. */
function batchesNamed(batches: readonly RecordBatch[] | undefined, records: readonly ReplicaRecord[]): { batches?: RecordBatch[] } {
  if (batches === undefined) return {};
  const named = new Set(records.flatMap((r) => ((r.kind === 'customer' || r.kind === 'entry') && r.batch !== undefined ? [r.batch] : [])));
  return { batches: batches.filter((b) => named.has(b.id)) };
}

/** A custom role, the vault settings or the MFA policy (task 15): sent by revision above the agreed one, not by sequence. */
const isVaultObject = (r: ReplicaRecord): boolean => r.kind === 'role' || r.kind === 'settings' || r.kind === 'mfa_policy';

/**
 * Records in order, cut into parts no larger than one push takes; signing keys first, as the
 * server checks every record by them (server/sync/verify.ts): a move's first part must bring them.
 * `moving`: the whole vault goes to a server that holds none of it (a move), so no rotation there
 * cuts anyone off, and its memberships are cut as any records are (desk.ts MOVE_PART_RECORDS).
 * `withTheirRecords`: the ids of revokes whose group or user the server never stored (Outgoing.revokesWithTheirRecords),
 * which go with the records that bring them, never ahead.
 * Exported for test/unit/push-parts.test.ts, which checks the bound on the part kept whole.
 */
export function partsOf(records: readonly ReplicaRecord[], maxRecords: number, moving = false, withTheirRecords: ReadonlySet<string> = new Set()): ReplicaRecord[][] {
  const parts: ReplicaRecord[][] = [];
  let part: ReplicaRecord[] = [];
  let bytes = 0;
  const sizeOf = (r: ReplicaRecord): number => JSON.stringify(r).length + 1;
  const keys = records.filter((r) => r.kind === 'signing_key');
  // Who is who goes in parts of its own, before the entries (review round ten, hole 1): a revoke,
  // a rotation's group record, a demotion or a disable is stored even when an entry of the same
  // push meets a conflict, which rolls back the whole part it is in. A group deleted here goes
  // with its entries (the server deletes only a group this push empties): such a push is not split.
  const people = (r: ReplicaRecord): boolean => r.kind === 'user' || r.kind === 'group' || r.kind === 'member';
  // Custom roles, settings and the MFA policy (task 15) go first, in a part of their own: a stale one's
  // CONFLICT then holds back neither the people nor the entries, and a user given a role finds it stored.
  // Typed as the whole union: TypeScript would narrow it to the three kinds, and `includes` below asks any record.
  // Except a role redefined into one that may not hold a server-codes group's secret key (no
  // otp.reveal_secret: shared/policy mayHoldSecretKeyIn): it goes last, in a part of its own (review 13a
  // hole 1). The server refuses it while a holder still wraps a server-codes group's secret key at
  // that group's current version, and this desktop's rotation taking the key from them is in the
  // people part; a role widened, or new (a user given it here finds it), still goes first.
  const codesOnlyNow = (r: ReplicaRecord): boolean => r.kind === 'role' && r.base > 0 && !mayHoldSecretKeyIn(r.permissions, true);
  const objects: ReplicaRecord[] = records.filter((r) => (r.kind === 'role' || r.kind === 'settings' || r.kind === 'mfa_policy') && !codesOnlyNow(r));
  const last: ReplicaRecord[] = records.filter(codesOnlyNow);
  const others = objects.length === 0 && last.length === 0 ? records : records.filter((r) => !objects.includes(r) && !last.includes(r));
  const deletesGroup = others.some((r) => r.kind === 'group' && r.deletedAt !== null);
  const split = !deletesGroup && others.some(people) && others.some((r) => r.kind !== 'signing_key' && !people(r));
  // Who is who that the server must take in one push goes first, in one part (not in a push deleting
  // a group: sent in order, the group with the entries that empty it):
  // - the user and group records, with the pusher's own memberships (every record is signed by the
  //   pusher, so their own is the one naming its author; finding D6): a demotion to codes-only travels
  //   with the rotation that takes the secret key from them, which the server refuses it without, and
  //   a lead's rotation keeps the lead in the group for the re-wraps of the parts after;
  // - every member record of a group whose record this push sends (a rotation's re-wraps): the server
  //   keeps the sequence a member cut off by a rotation joined at only when the same push wraps them
  //   again (server/sync/membership.ts applyPeople, rotatedOff). Re-wrapped in a later part, the
  //   member counted as joined after it, and an entry moved out of the group before the rotation was
  //   no longer told them (sync-left-reach-rotated, broken so by the first version of this part).
  // A rotation's revokes go before it, in a part of their own (`early`), signed at the version the
  //   server holds (electron/vault/replica-people.ts agreedVersion): the server ends the membership at
  //   once, whatever the version, and refuses the member's writes into the group from then on. With
  //   the rotation, they were refused with it whenever an entry of the group was stored after this
  //   desktop's pull (server/sync/records.ts strayEntriesOf): the revoked member, writing there between
  //   each pull and push, held their own revoke off for as long as they wrote. Not in a move (nothing
  //   there to cut anyone off), not in a push deleting a group (a removal goes beside the deletion,
  //   removedAsDeleted), not the pusher's own (they would no longer manage the group their rotation is
  //   of), and not a revoke of a group or user the server lacks yet (`withTheirRecords`: it would name what the server
  //   does not hold; signed below its rotation's version all the same, replica-people.ts agreedVersion).
  // Never cut, unless it alone exceeds what one push takes (MAX_BATCH_RECORDS, PART_BYTES): then it is
  // cut as any part is, users, groups and the pusher's memberships first, each group's members together.
  // And every member record of a group the pusher's own membership record of is sent (not in a move,
  // an owner's): a lead unmaking themselves after making another a lead (a hand-over) is judged by who
  // led before the push; their unmaking stored in a part before, the making was refused (FORBIDDEN) at
  // every sync. Their own record there keeps its place among the group's (the making first): a
  // desktop taking them in judges each by who leads when it comes (replica-people-in.ts takeMember).
  // Only the pusher's own re-wrap of a group whose record this push sends (their rotation) goes first.
  const pusherOwn = (r: ReplicaRecord): boolean => r.kind === 'member' && r.user === r.author;
  const rotated = new Set(others.flatMap((r) => (r.kind === 'group' ? [r.id] : [])));
  const ownRotation = (r: ReplicaRecord): boolean => pusherOwn(r) && r.kind === 'member' && rotated.has(r.group);
  const sentGroups = new Set([...rotated, ...others.flatMap((r) => (r.kind === 'member' && pusherOwn(r) && !moving ? [r.group] : []))]);
  const rewrap = (r: ReplicaRecord): boolean => !moving && r.kind === 'member' && !ownRotation(r) && sentGroups.has(r.group);
  const rotatedTo = new Map(others.flatMap((r) => (r.kind === 'group' ? [[r.id, r.keyVersion] as const] : [])));
  const early = moving || deletesGroup ? [] : others.filter((r) => r.kind === 'member' && r.revoked && !pusherOwn(r) && !withTheirRecords.has(r.id) && r.keyVersion < (rotatedTo.get(r.group) ?? 0));
  const goesEarly = new Set(early);
  const rewraps = new Map([...sentGroups].map((g) => [g, [] as ReplicaRecord[]]));
  for (const r of others) if (r.kind === 'member' && rewrap(r) && !goesEarly.has(r)) rewraps.get(r.group)?.push(r);
  const together = deletesGroup ? [] : [...others.filter((r) => r.kind === 'user' || r.kind === 'group' || (pusherOwn(r) && !rewrap(r))), ...[...rewraps.values()].flat()];
  const togetherBytes = together.reduce((sum, r) => sum + sizeOf(r), 0);
  const wholeTogether = together.length <= MAX_BATCH_RECORDS && togetherBytes <= PART_BYTES;
  // A set: a move's people records run to thousands, and asking an array for each would be quadratic.
  const inPart = new Set([...goesEarly, ...together]);
  const first = split ? others.filter((r) => people(r) && !inPart.has(r)) : [];
  const rest = others.filter((r) => r.kind !== 'signing_key' && !inPart.has(r) && !(split && people(r)));
  const togetherFrom = keys.length + objects.length + early.length;
  const lastFrom = togetherFrom + together.length + first.length + rest.length;
  for (const [index, record] of [...keys, ...objects, ...early, ...together, ...first, ...rest, ...last].entries()) {
    const size = sizeOf(record);
    // The objects in a part of their own, the keys' too (review 12a): a refused objects part then holds back no key the rest is checked by.
    const keysEnd = objects.length > 0 && index === keys.length;
    const objectsEnd = objects.length > 0 && index === keys.length + objects.length;
    // The revokes ahead of their rotation in a part of their own (after the objects' part, with the keys they are checked by): stored, whatever the rotation's part meets.
    const earlyEnd = early.length > 0 && index === togetherFrom;
    // Kept whole: cut before it where the part so far would not hold it all, never inside it.
    const togetherStarts = together.length > 0 && index === togetherFrom && wholeTogether && (part.length + together.length > maxRecords || bytes + togetherBytes > PART_BYTES);
    const inTogether = wholeTogether && index > togetherFrom && index < togetherFrom + together.length;
    const togetherEnd = together.length > 0 && index === togetherFrom + together.length;
    const peopleEnd = split && index === togetherFrom + together.length + first.length;
    const lastStarts = last.length > 0 && index === lastFrom;
    const full = !inTogether && (bytes + size > PART_BYTES || part.length >= maxRecords);
    if (part.length > 0 && (keysEnd || objectsEnd || earlyEnd || togetherStarts || togetherEnd || peopleEnd || lastStarts || full)) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(record);
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/**
 * A refused push whose conflicting record the pull that followed set aside here (a key, group or
 * user this vault lacks, or refused): pushing again meets the same conflict, so the round ends
 * with the reason instead of trying until BUSY (docs/SYNC.md, "an edit crossing a rotation").
 */
function stuckOnHeld(conflicts: ReadonlyArray<{ readonly id: string }>, held: ReadonlyArray<{ readonly id: string; readonly kind?: string; readonly reason: string }>): CrewvaultError | undefined {
  const named = new Set(conflicts.map((c) => c.id));
  const stuck = held.filter((h) => named.has(h.id));
  const first = stuck[0];
  if (first === undefined) return undefined;
  // A customer of this desktop's that cannot join the team's of its name says so itself, naming it (replica-customer-fold.ts).
  if (stuck.length === 1 && first.kind === 'customer') return new CrewvaultError('CONFLICT', first.reason);
  // One group (its deletion set aside: an agreed entry still stands in it here) is named as one.
  const one = first.kind === 'group' ? 'an access group' : 'an entry';
  return new CrewvaultError('CONFLICT', `The server holds a newer version of ${stuck.length === 1 ? one : `${stuck.length} records`} this desktop cannot take in yet, so its own change of ${stuck.length === 1 ? 'it' : 'them'} cannot be sent: ${first.reason.replace(/\.$/, '')}.`);
}

/**
 * What a pull asks of entries that left this person's reach: the signed records that moved them
 * (schema 27), else ids (schema 25 and 26), which are told and acted on no more.
 */
function leftAsked(client: TeamClient): { readonly leftRecords?: true; readonly left?: true } {
  if (tellsLeftRecords(client)) return { leftRecords: true };
  return tellsLeftReach(client) ? { left: true } : {};
}

/**
 * A refused push whose conflicting records the pull after it did not bring: the server leaves
 * them out of this person's pull (an entry now in a group they do not hold: moved there, or their
 * access removed), so no pull will bring them and pushing again meets the same conflicts. The
 * sync ends with the records named instead of trying until BUSY.
 */
function leftOutOfPull(conflicts: ReadonlyArray<{ readonly id: string; readonly revision: number }>, pulled: ReadonlySet<string>, held: ReadonlyArray<{ readonly id: string }>): CrewvaultError | undefined {
  const left = conflicts.filter((c) => !pulled.has(c.id) && !held.some((h) => h.id === c.id));
  const first = left[0];
  if (first === undefined) return undefined;
  const named = left.length === 1 ? `record ${first.id} (revision ${first.revision} there)` : `${left.length} records (${left.map((c) => c.id).join(', ')})`;
  return new CrewvaultError('CONFLICT', `The server holds a newer version of ${named} that it does not hand to this person (in a group they do not hold now), so this desktop's change of ${left.length === 1 ? 'it' : 'them'} cannot be sent: ask an owner or admin to give the group back, or to change ${left.length === 1 ? 'it' : 'them'} there.`);
}

export interface SyncOutcome {
  /** Records taken in from the server (others' changes), and how many of those were new here. */
  readonly pulled: number;
  readonly applied: number;
  /** Records of this replica the server stored. */
  readonly pushed: number;
  readonly conflictCopies: number;
  readonly countersMerged: number;
  /** Records set aside here, not taken in yet (a key, group or user this vault lacks, or refused): tried again each sync. */
  readonly held: number;
  /** Groups this person was removed from since (their key and entries dropped here), with the unsent edits made here in each, dropped. */
  readonly accessRemoved: ReadonlyArray<{ readonly group: string; readonly droppedEdits: number }>;
  /**
   * People whose change made here, not yet sent, a record from elsewhere crossed (audited here as
   * user.crossed): one a person, what was kept of each side (replica-people-in.ts takeUser, takeCrossing).
   */
  readonly crossed: ReadonlyArray<{ readonly user: string; readonly detail: string }>;
  /** This desktop's 16-byte device id from before derived ids, at this sync: left (its events re-signed onto a derived id) or kept (two people signed on it), one line. */
  readonly oldDevice?: string;
  /** Entries that left this person's reach since (moved into a group they do not hold: taken off this desktop, an unsent edit of one kept as a copy), one line. */
  readonly leftReach?: string;
  /** Entries the server said left this person's reach that stay here, as nothing signed vouched for it (an id alone, or a record that does not hold), one line. */
  readonly leftUnverified?: string;
  /** This desktop's audit events this sync left out of its push for good (a disabled author's, and its chain after them), one line. */
  readonly eventsNotSent?: string;
  /** The server's history was not the one this desktop pulled from (restored from a backup, the vault replaced): taken in again from 0, one line. */
  readonly historyChanged?: string;
  /** Changes of entries made here this person may not send now (their role narrowed since), kept here unsent while the rest went, one line. */
  readonly setAside?: string;
  /**
   * Customers made here that cannot join the team's of their name (a record of it from elsewhere set
   * aside here), kept here unsent with their entries while the rest went, one line with the reason.
   */
  readonly customerHeldBack?: string;
  /**
   * Customers made here that went over a member's record of their name whose name does not open here
   * (a squatted name: ApplyOutcome.customersWentOver), sent as its next revision with their entries;
   * one line naming who sent it.
   */
  readonly customerWentOver?: string;
  /**
   * Changes of entries in a group deleted elsewhere whose deletion waits here (an entry moved into it here
   * and not sent), which the server refused: kept here unsent while the rest went, one line.
   */
  readonly deletionWaiting?: string;
  /**
   * This person's unsent changes of entries changed on another desktop too, dropped (their role may not add entries,
   * so no conflict copy could go: replica-copy-not-added.ts), audited as group.changes_dropped, one line.
   */
  readonly copiesNotAdded?: string;
  /** Unsent changes made here in groups deleted elsewhere, dropped as the deletion was taken in (finding C7), the groups named as known here, one line. */
  readonly groupDeleted?: string;
  /** Events taken redacted whose tag by the earlier rule (naming no group) matched a key of a group held: the server may have withheld them, one line. */
  readonly mayBeWithheld?: string;
  /**
   * Revokes of this desktop's that gave way to another rotation and that this person may no longer
   * make again (team.ts rotateAgain), while their member still holds the group: an owner or admin
   * must make them. Told at each sync until then, one line.
   */
  readonly revokesUnmade?: string;
  /**
   * Changes of groups made here and not sent that this person may no longer send (a rename, no longer managing the
   * group; the server codes setting, no longer an owner or admin: ApplyOutcome.groupChangesUnmade), dropped, the group
   * back as the team holds it: told once, with the round that dropped them (groupChangesUnmadeLine), one line.
   */
  readonly groupChangesUnmade?: string;
  /**
   * Revokes of this desktop's whose push has not ended (revokesWaitingLine): told with the outcome,
   * and with the error of a sync that ends refused (BUSY, CONFLICT), one line.
   */
  readonly revokesWaiting?: string;
  /**
   * Key changes owed in groups this person manages (keyChangesOwedLine): a revoke stored whose rotation never came, the
   * group still under the key its member held. Told at each sync until someone changes the key, one line.
   */
  readonly keyChangesOwed?: string;
}

/** How far a round has come: records sent of those this push carries, records taken in so far. */
export interface SyncProgress {
  readonly sent: number;
  readonly total: number;
  readonly taken: number;
}

export interface SyncOptions {
  readonly move?: boolean;
  /** Told after each pull page and each pushed part (the desktop shows a large vault's first sync and move). */
  readonly onProgress?: (progress: SyncProgress) => void;
  /** At most this many records a push (fewer than the server takes, so a large move shows its progress part by part), but for who is who kept in one part (partsOf). */
  readonly partRecords?: number;
  /** At most this many records a pull page (fewer than the server's page: tests cut one intake into many pages with it). */
  readonly pullRecords?: number;
  /**
   * A first sync's audit history (first-sync.ts): 'now' (the default) takes it in, or what is
   * still owed of it, before this sync's pull; 'later' leaves it owed (the desktop's background
   * taking, or the next sync).
   */
  readonly history?: 'now' | 'later';
  /** Told the history's events taken so far after each page of it. */
  readonly onHistory?: (taken: number) => void | Promise<void>;
}

/** FORBIDDEN: the vault is not bound to this server (the desktop then asks its door for a move). */
export class NotMovedHere extends CrewvaultError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** The server `client` signed in to, as a vault is bound to it; FORBIDDEN when its key is not known here (sign in again). */
export function serverOf(client: TeamClient): TeamServerBinding {
  const key = client.serverKey;
  if (key === undefined || key === '') throw new CrewvaultError('FORBIDDEN', `This computer does not know ${client.url.host}'s key: sign in to it again; nothing was sent.`);
  return { key, origin: client.url.origin };
}

/**
 * FORBIDDEN unless this vault syncs with `server` (ReplicaService.teamServer: the same server key,
 * whatever URL reaches it). Nothing is sent when refused.
 */
export async function requireBound(replica: ReplicaService, server: TeamServerBinding): Promise<void> {
  const bound = await replica.teamServer();
  if (bound !== undefined && bound.key !== '' && bound.key === server.key) return;
  const host = new URL(server.origin).host;
  const boundHost = bound === undefined ? undefined : URL.canParse(bound.origin) ? new URL(bound.origin).host : 'another server';
  throw new NotMovedHere(bound === undefined
    ? `This vault was never moved to ${host}: nothing was sent. Its owner moves it there first (crewvault sync --move, or Move on the Team server screen).`
    : `This vault syncs with ${boundHost ?? 'another server'}, not ${host}: nothing was sent. Moving it to ${host} takes its owner's move (crewvault sync --move, or Move on the Team server screen).`);
}

/**
 * The team server's schema from which it takes audit events signed with the v3 text (schema 22:
 * server/sync/events-v3.ts checks them and hands them redacted to members who do not hold their
 * group). A desktop signs v3 only once its server says so (its health reply's schema), so an older
 * server never receives one; once switched, the file stays on v3. A server new enough for this
 * desktop's sync at all (server-schema.ts, schema 23) is.
 */
export const EVENT_V3_SERVER_SCHEMA = 22;

/** Refuses a server older than this desktop (requireServerSchema); one new enough takes v3 event signatures, so this file switches to them. */
async function learnServer(client: TeamClient, replica: ReplicaService): Promise<void> {
  await requireServerSchema(client);
  if (!(await replica.signsEventsV3())) await replica.startSigningEventsV3();
}

/**
 * A desktop from before task 15 pulled without naming the role, settings and policy kinds, and its
 * cursor moved past those the server held (review 12a hole 3). At its first sync naming them, it
 * takes what lies between the sequence its pulls last named them up to (the file's meta: 0 in a
 * file from before) and its cursor: the snapshot's `objects` part (the state's pages there, only
 * those kinds handed), each record judged as a pull's (one at or below its agreed revision changes
 * nothing), the cursor left where it was. Every pull here names them: pullAll notes the cursor after.
 */
async function takeVaultObjectsOwed(client: TeamClient, replica: ReplicaService, vault: string): Promise<{ readonly pulled: number; readonly applied: number }> {
  const tally = { pulled: 0, applied: 0 };
  const upTo = await replica.pulledUpTo();
  let after = await replica.vaultObjectsUpTo();
  while (after < upTo) {
    // A record stored out of the contract's shape is set aside with its reason, the rest taken (snapshot-page.ts).
    const { page, unfit } = await snapshotPage(client, { vault, part: 'objects', after, upTo, kinds: [...VAULT_OBJECT_KINDS] });
    const last = page.records.at(-1)?.seq;
    const inOrder = page.records.every((r, i) => r.seq > after && r.seq <= upTo && (i === 0 || r.seq > (page.records[i - 1]?.seq ?? 0)) && isVaultObject(r.record));
    if (!inOrder || page.upTo !== upTo || page.after < (last ?? after) || page.after > upTo || (page.more && page.after <= after)) {
      throw new CrewvaultError('SERVER_UNREACHABLE', 'The server answered a pull of the vault\'s roles, settings and policy out of order: nothing more of it was taken in. Sync again; if it persists, tell its administrator.');
    }
    if (page.records.length > 0 || unfit.length > 0) {
      const outcome = await replica.applyPulled(vault, page.records.map((r) => r.record), { hold: true, ...(unfit.length > 0 ? { unfit } : {}) }, page.batches);
      tally.pulled += page.records.length;
      tally.applied += outcome.applied;
    }
    if (!page.more) break;
    after = page.after;
  }
  await replica.noteVaultObjectsUpTo(upTo);
  return tally;
}

/** What a sync tells of this desktop's 16-byte device id (ReplicaService.leaveOldDevice), one line; nothing when there was none to leave. */
function oldDeviceLine(left: OldDeviceLeft): string | undefined {
  if (left.left === 'moved') return `This desktop's device id from before derived ids was left before its first push: its ${left.events} audit event${left.events === 1 ? '' : 's'} re-signed onto an id derived from your key.`;
  // Its log does not verify: nothing re-signed (an edit by someone without the key stays unsigned as theirs), the id kept.
  if (left.left === 'unverified') return "This desktop's device id from before derived ids was kept: its audit log does not verify, so none of its events were re-signed (run crewvault audit verify).";
  if (left.left === 'kept') return `This desktop's device id from before derived ids keeps its events (${left.people} people signed on it, and another's event cannot be re-signed): until its first push, someone who learned the id could still claim it.`;
  return undefined;
}

const SET_ASIDE_VERB: Readonly<Record<string, string>> = { 'entries.create': 'add', 'entries.edit': 'change', 'entries.delete': 'delete' };

/**
 * What a sync tells of the changes of entries its push left out (Outgoing.setAside: the person's
 * role lacks the permission now, or a group they do not hold), one line; nothing when none. They
 * stay on this desktop, unsent, and go once the role allows them again (docs/SYNC.md).
 */
export function setAsideLine(setAside: Outgoing['setAside']): string | undefined {
  if (setAside === undefined || setAside.length === 0) return undefined;
  const count = setAside.reduce((n, s) => n + s.count, 0);
  const why = setAside.map((s) => (s.why === 'group' ? 'made by someone else here in a group you do not hold' : `your role may not ${SET_ASIDE_VERB[s.why] ?? 'write'} entries (${s.why})`));
  return `${count} change${count === 1 ? '' : 's'} of ${count === 1 ? 'an entry' : 'entries'} ${count === 1 ? 'stays' : 'stay'} on this desktop, not sent: ${why.join('; ')}. Your other changes were sent; ${count === 1 ? 'it goes' : 'they go'} once your role allows ${count === 1 ? 'it' : 'them'} again.`;
}

/**
 * What a sync tells of the changes its push left out because their group's deletion from elsewhere waits here
 * (Outgoing.deletionWaiting), or nothing.
 */
export function deletionWaitingLine(count: number | undefined): string | undefined {
  if (count === undefined || count === 0) return undefined;
  const one = count === 1;
  return `${count} change${one ? '' : 's'} of ${one ? 'an entry' : 'entries'} ${one ? 'stays' : 'stay'} on this desktop, not sent: ${one ? 'its' : 'their'} group was deleted elsewhere, and the deletion waits here for an entry moved into it here. Your other changes were sent; move what you keep to another group, and the group goes.`;
}

/**
 * What a sync tells of the customers its push left out because they cannot join the team's of their
 * name (Outgoing.customersHeldBack): the set-aside record's reason, and that the rest went. Nothing
 * when none was.
 */
export function customerHeldBackLine(back: Outgoing['customersHeldBack']): string | undefined {
  if (back === undefined || back.length === 0) return undefined;
  const entries = back.reduce((n, b) => n + b.entries, 0);
  const reasons = [...new Set(back.map((b) => b.reason.replace(/\.$/, '')))].join('; ');
  const one = back.length === 1;
  // Named here, never in the reason: that is kept with the set-aside record in the file, where a name is only sealed.
  const names = back.map((b) => `"${b.name}"`).join(', ');
  return `${one ? 'A customer' : `${back.length} customers`} made here (${names}) ${one ? 'stays' : 'stay'} on this desktop unsent, with ${entries} change${entries === 1 ? '' : 's'} of ${one ? 'its' : 'their'} ${entries === 1 ? 'entry' : 'entries'}: the team's customer of ${one ? 'its' : 'their'} name was refused here (${reasons}). Your other changes were sent.`;
}

/**
 * What a sync tells of the customers made here that went over a record of their name refused here
 * (ApplyOutcome.customersWentOver): whose record, why, and what became of it. Nothing when none did.
 */
export function customerWentOverLine(over: ApplyOutcome['customersWentOver']): string | undefined {
  if (over.length === 0) return undefined;
  const one = over.length === 1;
  const records = [...new Set(over.map((o) => `${o.by}'s, ${o.why}`))].join('; ');
  return `${one ? 'A customer' : `${over.length} customers`} made here went over the team's record of ${one ? 'its' : 'their'} name (${records}: only an altered desktop makes one, and the server refused every other customer of that name): sent as that record's next revision, with ${one ? 'its' : 'their'} entries.`;
}

/**
 * What a sync tells of the revokes this person may no longer make, or nothing: those rotateAgain could not make after a
 * give-way, and those whose own rotation was undone here (replica-own-key.ts giveWayToHeld), a sentence each kind; one
 * stored whose rotation was undone (the member cut off, the group keeping the key they held) a sentence of its own.
 */
export function revokesUnmadeLine(unmade: readonly RevokeUnmadeTold[]): string | undefined {
  const sentence = (of: readonly RevokeUnmadeTold[], why: (one: boolean) => string): string[] => {
    if (of.length === 0) return [];
    const one = of.length === 1;
    return [`${one ? 'A revoke' : 'Revokes'} of yours not made: ${of.map((u) => `${u.member} from ${u.group}`).join('; ')} (${why(one)}): an owner or admin must make ${one ? 'it' : 'them'}.`];
  };
  const keyKept = unmade.filter((u) => u.keyKept === true);
  const lines = [
    ...sentence(unmade.filter((u) => !u.undone), (one) => `another rotation was kept first, and you may no longer make ${one ? 'it' : 'them'} again`),
    ...sentence(unmade.filter((u) => u.undone && u.keyKept !== true), () => 'you no longer manage the group, and your key change, never sent, was undone'),
    ...(keyKept.length === 0 ? [] : [`Removed on the server, the key not changed: ${keyKept.map((u) => `${u.member} from ${u.group}`).join('; ')} (you no longer manage the group, and your key change, never sent, was undone): what is written there stays under the key they held until an owner or admin changes it.`]),
  ];
  return lines.length === 0 ? undefined : lines.join(' ');
}

/**
 * What a sync tells of the changes of groups made here and not sent that this person may no longer send
 * (ApplyOutcome.groupChangesUnmade: each with why), dropped, each group back as the team holds it; or nothing.
 */
export function groupChangesUnmadeLine(unmade: ApplyOutcome['groupChangesUnmade']): string | undefined {
  if (unmade.length === 0) return undefined;
  const one = unmade.length === 1;
  const each = unmade.map((u) => `"${u.group}" ${u.change} (${u.why})`).join('; ');
  return `${one ? 'A change of yours' : 'Changes of yours'} not made: ${each}. Never sent, ${one ? 'the group stays' : 'the groups stay'} as the team holds ${one ? 'it' : 'them'}.`;
}

/**
 * What a sync tells of this desktop's revokes whose push has not ended (ReplicaService.revokesWaiting),
 * or nothing. A revoke goes ahead of its rotation (partsOf): stored, its member is cut off on the
 * server, and only the key change waits (what is written in the group meanwhile stays under the key
 * they held); not stored, they still reach the group there, unless the server never held them in it
 * (the group or the user new to it: it goes with their records).
 */
export function revokesWaitingLine(waiting: ReadonlyArray<{ readonly member: string; readonly group: string; readonly stored: boolean; readonly neverHeld: boolean }>): string | undefined {
  if (waiting.length === 0) return undefined;
  const each = waiting.map((w) => (w.stored
    ? `${w.member} no longer reaches ${w.group} on the server; its key change waits: entries written there since stay under the key ${w.member} held`
    : w.neverHeld
      ? `${w.member}'s removal from ${w.group} waits to be sent: ${w.member} never reached it on the server`
      : `${w.member}'s removal from ${w.group} waits: ${w.member} still reaches it on the server`));
  return `${each.join('; ')}. Sync again to send the rest.`;
}

/**
 * What a sync tells of the key changes owed in groups this person manages (ReplicaService.keyChangesOwed), or nothing:
 * a revoke stored ahead of its rotation, and no rotation of the group since (the revoking desktop abandoned, or its
 * rotation never made), so the group keeps the key the member held; a sentence each, naming how to change it.
 */
export function keyChangesOwedLine(owed: ReadonlyArray<{ readonly member: string; readonly group: string }>): string | undefined {
  if (owed.length === 0) return undefined;
  return owed.map((o) => `${o.member} was removed from ${o.group} on the server, but its key has not been changed since: what is written there stays under the key ${o.member} held. Change it: crewvault group rotate ${o.group} (or the Groups screen).`).join(' ');
}

/** The refusal a history owed met, carried on to the pull's recovery. */
function historyChanged(): CrewvaultError {
  return new CrewvaultError('HISTORY_CHANGED', 'The team server\'s history of this vault is not the one this desktop pulled from.');
}

/**
 * The server's history of the vault is not the one this desktop pulled from (HISTORY_CHANGED:
 * restored from a backup, or its vault replaced; docs/SYNC.md "Faults"): its cursors go back to 0
 * (ReplicaService.startOver, the agreed revisions kept as floors), `pull` takes the vault in anew
 * (a different version at the revision agreed here kept beside the server's as a conflict copy;
 * returns how many; an older one never taken), and what the server lost or holds older is left to
 * this sync's push (settleStartOver). One line told.
 */
async function takeInAnew(replica: ReplicaService, pull: () => Promise<number>): Promise<string> {
  await replica.startOver();
  let copies: number;
  try {
    copies = await pull();
  } catch (error) {
    await replica.abandonStartOver();
    throw error;
  }
  const { resent, keptHere } = await replica.settleStartOver();
  const parts = [
    ...(copies > 0 ? [`${copies} version${copies === 1 ? '' : 's'} agreed here kept as conflict cop${copies === 1 ? 'y' : 'ies'}`] : []),
    ...(resent > 0 ? [`${resent} entr${resent === 1 ? 'y' : 'ies'} it lacked or held older sent again`] : []),
    ...(keptHere > 0 ? [`${keptHere} it lacked or held older kept on this desktop only (your role may not write ${keptHere === 1 ? 'it' : 'them'})`] : []),
  ];
  return `The team server's copy of this vault is not the one this desktop last synced with (restored from a backup, or replaced): taken in again from the start${parts.length > 0 ? `; ${parts.join('; ')}` : ''}, and this desktop's own changes it lacked sent again.`;
}

export async function syncOnce(client: TeamClient, replica: ReplicaService, options: SyncOptions = {}): Promise<SyncOutcome> {
  const kept: RoundKept = {};
  try {
    // Events this round's applies take redacted on an earlier-rule tag match (audit-event-texts.ts V3Verdict), told in one line.
    await replica.mayBeWithheldSince();
    const outcome = await syncRound(client, replica, options, kept);
    const unsure = await replica.mayBeWithheldSince();
    // Told at each sync while they stand (the member still holds the group), read once the round has taken everything in.
    const unmade = revokesUnmadeLine(await replica.revokesUnmade());
    const waiting = revokesWaitingLine(await replica.revokesWaiting());
    const owed = keyChangesOwedLine(await replica.keyChangesOwed());
    return {
      ...outcome,
      ...(unsure.length === 0 ? {} : { mayBeWithheld: mayBeWithheldLine(unsure.length, unsure) }),
      ...(unmade === undefined ? {} : { revokesUnmade: unmade }),
      ...(waiting === undefined ? {} : { revokesWaiting: waiting }),
      ...(owed === undefined ? {} : { keyChangesOwed: owed }),
    };
  } catch (error) {
    if (!(error instanceof CrewvaultError)) throw error;
    // This desktop's old id kept because its log does not verify: the server most likely refused the
    // same changed row, so the line goes with the error instead of being lost with the outcome.
    // And a revoke still waiting (a round ending BUSY or CONFLICT says nothing of it else): whether its member is cut off yet.
    const waiting = error.code === 'LOCKED' ? undefined : revokesWaitingLine(await replica.revokesWaiting().catch(() => []));
    // Changes of groups dropped by this round's pulls, told once with it: a round ending in an error returns no outcome.
    const told = [kept.unverified, kept.changesUnmade, waiting].filter((line): line is string => line !== undefined);
    if (told.length > 0) throw new CrewvaultError(error.code, `${error.message.replace(/\s+$/, '')} ${told.join(' ')}`, error.retryAfterSeconds);
    throw error;
  }
}

/** What a round tells that must not be lost with its outcome when it ends in an error (syncOnce tells it with the error). */
interface RoundKept {
  /** This desktop's old id kept, its log not verifying (oldDeviceLine). */
  unverified?: string;
  /** Changes of groups this person may no longer send, dropped by the round's pulls (groupChangesUnmadeLine): told once. */
  changesUnmade?: string;
}

async function syncRound(client: TeamClient, replica: ReplicaService, options: SyncOptions, roundKept: RoundKept): Promise<SyncOutcome> {
  const vault = await replica.vaultId();
  await learnServer(client, replica);
  // Before anything is pulled or pushed: a 16-byte device id nothing handed on yet is left ("Who a device is").
  const oldLeft = await replica.leaveOldDevice();
  const oldDevice = oldDeviceLine(oldLeft);
  if (oldLeft.left === 'unverified') roundKept.unverified = oldDevice;
  const tally: { pulled: number; applied: number; pushed: number; conflictCopies: number; countersMerged: number; held: number; accessRemoved: Array<{ readonly group: string; readonly droppedEdits: number }>; crossed: Array<{ readonly user: string; readonly detail: string }>; oldDevice?: string; eventsNotSent?: string; leftReach?: string; leftUnverified?: string; historyChanged?: string; setAside?: string; customerHeldBack?: string; customerWentOver?: string; deletionWaiting?: string; groupDeleted?: string; copiesNotAdded?: string; groupChangesUnmade?: string } = {
    pulled: 0, applied: 0, pushed: 0, conflictCopies: 0, countersMerged: 0, held: 0, accessRemoved: [], crossed: [], ...(oldDevice === undefined ? {} : { oldDevice }),
  };
  /** This person's versions of entries changed elsewhere too dropped, as their role may not add the copy (ApplyOutcome.copiesNotAdded), told in one line. */
  let notCopied = 0;
  const noteNotCopied = (count: number): void => {
    notCopied += count;
    const line = notCopiedLine(notCopied);
    if (line !== undefined) tally.copiesNotAdded = line;
  };
  /** A crossing told by a page, kept one line a person (a user and a member record of them crossing in one sync: both said). */
  const noteCrossed = (crossed: ReadonlyArray<{ readonly user: string; readonly detail: string }>): void => {
    for (const c of crossed) {
      const index = tally.crossed.findIndex((t) => t.user === c.user);
      const before = tally.crossed[index];
      if (before === undefined) tally.crossed.push({ user: c.user, detail: c.detail });
      else if (!before.detail.includes(c.detail)) tally.crossed[index] = { user: c.user, detail: `${before.detail}; ${c.detail.replace(`${c.user}: `, '')}` };
    }
  };
  /** Groups deleted elsewhere whose unsent changes here the pulls dropped (ApplyOutcome.groupDeleted), told in one line. */
  const deletedGroups: Array<{ readonly group: string; readonly droppedChanges: number }> = [];
  const noteGroupDeleted = (deleted: ApplyOutcome['groupDeleted']): void => {
    deletedGroups.push(...deleted);
    const line = groupDeletedLine(deletedGroups);
    if (line !== undefined) tally.groupDeleted = line;
  };
  /** Customers made here that the pulls sent over a squatted record of their name, told in one line. */
  const wentOver: Array<ApplyOutcome['customersWentOver'][number]> = [];
  const noteWentOver = (over: ApplyOutcome['customersWentOver']): void => {
    wentOver.push(...over);
    const line = customerWentOverLine(wentOver);
    if (line !== undefined) tally.customerWentOver = line;
  };
  /** Changes of groups this person no longer manages, dropped by the pulls (ApplyOutcome.groupChangesUnmade), told in one line. */
  const unmadeChanges: Array<ApplyOutcome['groupChangesUnmade'][number]> = [];
  const noteChangesUnmade = (unmade: ApplyOutcome['groupChangesUnmade']): void => {
    unmadeChanges.push(...unmade);
    const line = groupChangesUnmadeLine(unmadeChanges);
    if (line === undefined) return;
    tally.groupChangesUnmade = line;
    roundKept.changesUnmade = line;
  };
  /** Unsent changes dropped so far with their deleted groups: a refused push pulled again goes on when this grew. */
  const droppedWithGroups = (): number => deletedGroups.reduce((n, d) => n + d.droppedChanges, 0);
  /** Entries pulled whose sealed bytes equal this replica's own (ApplyOutcome.recognised): evidence the server holds this vault. */
  let recognised = 0;
  let total = 0;
  /** Records the pulls since the last refused push handed over, by id (a conflict none of them brought is left out of this person's pull). */
  let pulledIds = new Set<string>();
  /** What the last pull set aside here (ids and reasons), to tell a conflict no push can get past. */
  let heldNow: ReadonlyArray<{ readonly id: string; readonly kind: string; readonly reason: string }> = [];
  /** Entry versions a pull of this sync set aside as refused (VAULT_TAMPERED: never taken here, unlike a key or group still to come), by id: the revision refused and why. */
  const refusedHere = new Map<string, { readonly revision: number; readonly reason: string }>();
  const noteRefused = (held: ReadonlyArray<{ readonly id: string; readonly kind: string; readonly reason: string; readonly revision?: number }>): void => {
    for (const h of held) if (h.kind === 'entry' && h.revision !== undefined && isRefusal(h.reason)) refusedHere.set(h.id, { revision: h.revision, reason: h.reason });
  };
  const told = (): void => options.onProgress?.({ sent: tally.pushed, total, taken: tally.pulled });
  /** Entries the pulls told left this person's reach, and the copies kept of unsent edits of them (review 13b holes 2 and 4). */
  const left = { dropped: 0, kept: [] as string[], notKept: 0, notAdded: 0, unverified: 0, why: new Set<string>() };
  /**
   * Taken off this desktop only by a signed record that holds (review 14 hole 1); an id alone, or a
   * record that does not hold, is told and moves nothing. Judged before the page is taken in (a
   * lost transaction after leaves the note to the next pull), and those left standing once more
   * after it (`last`), when the mover's grant, key or group the same page brings is here: the
   * cursor then passes the note for good.
   */
  const leaveReach = async (told: LeftTold, batches: readonly RecordBatch[], last: boolean): Promise<LeftTold | undefined> => {
    if ((told.ids ?? []).length === 0 && (told.records ?? []).length === 0) return undefined;
    const gone = await replica.leaveReach(told, batches);
    if (gone.dropped > 0) {
      left.dropped += gone.dropped;
      left.kept.push(...gone.kept.map((c) => `${c.customer}/${c.title}`));
      left.notKept += gone.notKept;
      left.notAdded += gone.notAdded;
      tally.leftReach = leftReachLine(left.dropped, left.kept, left.notKept, left.notAdded);
    }
    if (gone.unverified === 0) return undefined;
    if (!last) {
      const standing = new Set(gone.standing);
      return { ids: told.ids?.filter((id) => standing.has(id)), records: told.records?.filter((r) => standing.has(r.id)) };
    }
    left.unverified += gone.unverified;
    for (const why of gone.unverifiedWhy) left.why.add(why);
    tally.leftUnverified = leftUnverifiedLine(left.unverified, [...left.why]);
    return undefined;
  };
  const pullAll = async (): Promise<void> => {
    let tried = false;
    let caughtUp = false;
    const request = (since: number, mark: HistoryMark | undefined): { readonly since: number; readonly page: Promise<ServerRouteOutput<'syncPull'>>; readonly checked: Promise<VerifiedSignatures | undefined>; readonly sent: Promise<void> } => {
      // The history mark held for `since` names the history this cursor belongs to (docs/SYNC.md "Faults"): another there is HISTORY_CHANGED.
      const marks = tellsHistoryMarks(client) ? { marks: true as const, ...(mark === undefined ? {} : { mark }) } : {};
      const { reply: page, sent } = askedAhead((out) => client.call('syncPull', { vault, since, kinds: [...VAULT_OBJECT_KINDS], ...marks, ...leftAsked(client), ...(handsMoves(client) ? { moves: true as const } : {}), ...(options.pullRecords === undefined ? {} : { limit: Math.max(1, Math.min(MAX_BATCH_RECORDS, options.pullRecords)) }) }, out));
      page.catch(() => undefined); // awaited below; a prefetch dropped unread must not surface as unhandled
      // Its signatures checked on the worker threads as soon as it arrives, while the page before
      // it is still being written. Only a memo: failing here just leaves the checks to apply.
      const checked = page.then((p) => (p.records.length < CHECK_AHEAD_FROM ? undefined : replica.checkAhead(vault, p.records.map((r) => r.record), p.batches))).catch(() => undefined);
      return { since, page, checked, sent };
    };
    let ahead = request(await replica.pulledUpTo(), await replica.historyMark());
    for (;;) {
      const since = await replica.pulledUpTo();
      // The page asked for ahead is used only if it starts where this replica now stands.
      const asked = ahead.since === since ? ahead : request(since, await replica.historyMark());
      const page = await asked.page;
      // The server is another machine: a page must move forward, in order, up to no less than it
      // carries (it may read past records of groups this person does not hold, and leave them out).
      const last = page.records.at(-1)?.seq;
      const inOrder = page.records.every((r, i) => r.seq > since && (i === 0 || r.seq > (page.records[i - 1]?.seq ?? 0)));
      if (!inOrder || page.upTo < (last ?? since) || (page.more && page.upTo <= since)) {
        throw new CrewvaultError('SERVER_UNREACHABLE', 'The server answered a pull out of order: nothing of it was taken in. Sync again; if it persists, tell its administrator.');
      }
      // The next page is on its way (the server reads it) while this one is checked and written.
      if (page.more) ahead = request(page.upTo, page.mark);
      // Out before the write below holds the event loop (client.ts askedAhead): leaveReach's reads turn the loop too, but nothing should rest on that.
      await ahead.sent;
      // Entries moved out of this person's reach in the page's range (never one the page hands): off this desktop first, an unsent edit kept as a copy.
      const again = await leaveReach({ ids: page.left, records: page.leftRecords }, page.batches ?? [], false);
      if (page.records.length > 0) {
        // Parsed once, by the client with the contract's record schema: taken in without parsing again.
        const checked = await asked.checked;
        const outcome = await replica.applyPulled(vault, page.records.map((r) => r.record), { pulledUpTo: page.upTo, hold: true, caughtUp: !page.more, ...(checked ? { checked } : {}), ...(page.moves === undefined ? {} : { moves: page.moves }) }, page.batches);
        tally.held = outcome.held.length;
        heldNow = outcome.held;
        noteRefused(outcome.held);
        tally.accessRemoved.push(...outcome.accessRemoved);
        noteGroupDeleted(outcome.groupDeleted);
        noteCrossed(outcome.crossed);
        noteChangesUnmade(outcome.groupChangesUnmade);
        noteWentOver(outcome.customersWentOver);
        noteNotCopied(outcome.copiesNotAdded);
        for (const r of page.records) pulledIds.add(r.record.id);
        caughtUp = !page.more;
        tally.pulled += page.records.length;
        tally.applied += outcome.applied;
        recognised += outcome.recognised;
        // The cursor now stands at upTo: the mark of its history kept beside it.
        if (page.mark !== undefined) await replica.noteHistoryMark(page.upTo, page.mark);
        tally.conflictCopies += outcome.conflictCopies.length;
        tally.countersMerged += outcome.countersMerged;
        tried = true;
        told();
      }
      if (again !== undefined) await leaveReach(again, page.batches ?? [], true);
      if (!page.more) break;
    }
    // Every page of it named the role, settings and policy kinds (review 12a hole 3).
    await replica.noteVaultObjectsUpTo(await replica.pulledUpTo());
    // Records set aside earlier are tried again at each sync, even when nothing new came, and once
    // more at the server's head when the last page read was empty (a record set aside for a later page is tried once more).
    if (!tried || (!caughtUp && tally.held > 0)) {
      const again = await replica.apply({ format: REPLICA_FORMAT, vault, records: [] }, { hold: true, caughtUp: true });
      tally.held = again.held.length;
      heldNow = again.held;
      noteRefused(again.held);
      tally.accessRemoved.push(...again.accessRemoved);
      noteGroupDeleted(again.groupDeleted);
      noteCrossed(again.crossed);
      noteChangesUnmade(again.groupChangesUnmade);
      noteWentOver(again.customersWentOver);
      noteNotCopied(again.copiesNotAdded);
    }
  };
  /**
   * Pushes `out` in parts the server takes (by count and by bytes), in order, each marked sent
   * once stored; false at the first part the server refuses for conflicts (the parts before it
   * stay stored and marked; the rest goes again after a pull). A refused part of roles, settings
   * and the MFA policy alone holds back nothing after it (review 12a: a stale or set-aside one
   * wedges only its own object): the people and entries parts still go, and false is told after them.
   */
  /** The part the server last refused, and the conflicts it named. */
  let refused: { readonly records: readonly ReplicaRecord[]; readonly conflicts: ReadonlyArray<{ readonly id: string; readonly revision: number }> } | undefined;
  const pushInParts = async (out: Outgoing): Promise<boolean> => {
    const parts = partsOf(out.batch.records, Math.max(1, Math.min(MAX_BATCH_RECORDS, options.partRecords ?? MAX_BATCH_RECORDS)), options.move === true, out.revokesWithTheirRecords);
    // The server indexes a key that introduces itself and stores it as no record (server/sync/records.ts):
    // it is not counted in what it took, so neither is it in the total.
    total = tally.pushed + out.batch.records.filter((r) => !(r.kind === 'signing_key' && r.certifiedBy === null)).length;
    told();
    /** Refused parts of vault objects only (partsOf puts them in parts of their own), set aside while the rest goes on. */
    let objectsRefused: typeof refused;
    for (const [index, records] of parts.entries()) {
      const last = index === parts.length - 1;
      const part: Outgoing = {
        batch: { ...out.batch, records, ...batchesNamed(out.batch.batches, records) }, upToSeq: last ? out.upToSeq : -1,
        // This device's events left out (a disabled author's and the chain after it) are noted with the part that moves the sent mark.
        ...(last && out.eventsLeftOut !== undefined ? { eventsLeftOut: out.eventsLeftOut } : {}),
        // How far this device's events went (past a change kept here: replica-service.ts outgoing), moved with it.
        ...(last && out.eventsUpToSeq !== undefined ? { eventsUpToSeq: out.eventsUpToSeq } : {}),
      };
      // Noted before it leaves: should the reply be lost, these records are known as ours when they come back.
      await replica.pushing(part);
      // How far this desktop pulled: a rotation in the part is refused while an entry stored since is left under the old key (review R1).
      const pulled = takesPulled(client) ? { pulled: await replica.pulledUpTo() } : {};
      const stored = await client.call('syncPush', { batch: part.batch, ...(tellsHistoryMarks(client) ? { marks: true as const } : {}), ...pulled });
      if (stored.conflicts.length > 0) {
        refused = { records: [...(objectsRefused?.records ?? []), ...records], conflicts: [...(objectsRefused?.conflicts ?? []), ...stored.conflicts] };
        if (records.every(isVaultObject)) {
          // Its objects are sent again after a pull (their revision is above the agreed one until stored); upToSeq is no
          // mark of theirs, so the last part may still move it.
          objectsRefused = refused;
          continue;
        }
        return false;
      }
      const notSent = await replica.markSent(part, stored);
      // Kept only when this push moved the cursor to its sequence (nobody pushed between).
      if (stored.mark !== undefined) await replica.noteHistoryMark(stored.seq, stored.mark);
      if (notSent !== undefined) tally.eventsNotSent = eventsNotSentLine(notSent);
      tally.pushed += stored.accepted;
      told();
    }
    if (objectsRefused !== undefined) refused = objectsRefused;
    return objectsRefused === undefined;
  };
  /**
   * A push refused (FORBIDDEN) for what changed on the server since this sync's pull — an entry moved
   * out of this person's reach, a group deleted with changes here in it (C7) — is pulled again once:
   * whether that pull took an entry off this desktop or dropped changes with a deleted group, so the rest can go.
   */
  const settledSincePull = async (error: unknown): Promise<boolean> => {
    if (!(error instanceof CrewvaultError) || error.code !== 'FORBIDDEN') return false;
    const before = { left: left.dropped, deleted: droppedWithGroups() };
    pulledIds = new Set();
    await pullAll();
    return left.dropped > before.left || droppedWithGroups() > before.deleted;
  };
  const server = serverOf(client);
  if (options.move) {
    // The caller asked its door first (desk.ts move: the confirmation port; the CLI: --move typed
    // by the person): from now on this vault syncs with this server and no other.
    await replica.bindTeamServer(server);
    if (!(await pushInParts(await replica.outgoing(true, true)))) {
      // A move tried again after its reply was lost (the server stored it; the desktop never
      // heard) meets its own records, each held at the very revision sent: it goes on as a sync,
      // whose pull takes them in as this replica's own (noted when pushed). Any other version
      // there is someone else's vault content: refused, as before.
      const ownAgain = refused?.conflicts.every((c) => refused?.records.some((r) => r.id === c.id && (r.kind === 'entry' || r.kind === 'customer' || r.kind === 'role' || r.kind === 'settings' || r.kind === 'mfa_policy') && r.revision === c.revision)) ?? false;
      if (!ownAgain) throw new CrewvaultError('CONFLICT', 'The server already holds this vault, with other versions of its entries: sync without --move.');
      await pullAll();
    }
  } else {
    // Bound to another server: nothing is asked of this one either (its pull would move this
    // replica's pulled sequence, which counts the other server's).
    const bound = await replica.teamServer();
    if (bound !== undefined) await requireBound(replica, server);
    // A desktop holding nothing yet takes the server's snapshot first (first-sync.ts); the pull goes on from where it ended.
    /** The server's history changed under this desktop (HISTORY_CHANGED met taking the audit history owed). */
    let historyGone = false;
    const history = { history: options.history ?? 'now', ...(options.onHistory ? { onHistory: options.onHistory } : {}) } as const;
    const first = await firstSync(client, replica, { onPage: (taken) => options.onProgress?.({ sent: 0, total: 0, taken }), ...history });
    if (first) {
      tally.pulled += first.pulled;
      tally.applied += first.applied;
      tally.held = first.held;
      // Its snapshot named the role, settings and policy kinds: nothing of them is owed (review 12a hole 3).
      await replica.noteVaultObjectsUpTo(first.upTo);
    } else if (history.history === 'now') {
      // A history an earlier first sync left owed (interrupted, or 'later') goes on from its cursor before the pull.
      // Its end past the server's head (restored since: HISTORY_CHANGED) is taken in anew below, with everything else.
      const taken = await takeHistory(client, replica, history).catch((error: unknown) => {
        if (error instanceof CrewvaultError && error.code === 'HISTORY_CHANGED') return 'changed' as const;
        throw error;
      });
      if (taken === 'changed') historyGone = true;
      else if (taken) {
        tally.pulled += taken.pulled;
        tally.applied += taken.applied;
      }
    }
    const takeIn = async (): Promise<void> => {
      const owed = await takeVaultObjectsOwed(client, replica, vault);
      tally.pulled += owed.pulled;
      tally.applied += owed.applied;
      await pullAll();
    };
    try {
      if (historyGone) throw historyChanged();
      await takeIn();
    } catch (error) {
      if (!(error instanceof CrewvaultError) || error.code !== 'HISTORY_CHANGED') throw error;
      tally.historyChanged = await takeInAnew(replica, async () => {
        const copiesBefore = tally.conflictCopies;
        await takeIn();
        return tally.conflictCopies - copiesBefore;
      });
    }
    // A vault leaves for a server only by a move. One not bound to this server pushes nothing,
    // whatever the server says it holds. One bound to none yet is bound here when what it just
    // took in shows the server holds this vault: records new here, each checked under this vault's
    // own keys, or entries whose sealed bytes equal this replica's (a copy of the file made before
    // its move, on another desktop), which a server never given the vault lacks. A vault bound to
    // another server is never rebound but by a move.
    if (bound === undefined && (await replica.teamServer()) === undefined && (tally.applied > 0 || recognised > 0)) await replica.bindTeamServer(server);
    await requireBound(replica, server);
  }
  // Set once the server refused a push with changes in a group whose deletion waits here (below).
  let holdDeletionWaiting = false;
  for (let round = 0; round < PUSH_ROUNDS; round++) {
    const out = await replica.outgoing(false, true, holdDeletionWaiting);
    // Told at each sync while they wait, and no longer once they went (task 15).
    const aside = setAsideLine(out.setAside);
    if (aside === undefined) delete tally.setAside;
    else tally.setAside = aside;
    const back = customerHeldBackLine(out.customersHeldBack);
    if (back === undefined) delete tally.customerHeldBack;
    else tally.customerHeldBack = back;
    const waiting = deletionWaitingLine(out.deletionWaiting);
    if (waiting === undefined) delete tally.deletionWaiting;
    else tally.deletionWaiting = waiting;
    if (out.batch.records.length === 0) return tally;
    try {
      if (await pushInParts(out)) return tally;
    } catch (error) {
      // An entry moved out of this person's reach, or a group with changes here in it deleted, between this
      // sync's pull and its push (or before a pull that could not take it in): the push is refused (FORBIDDEN,
      // nothing stored); the pull after it tells the move (the entry leaves, an unsent edit kept as a copy) or
      // brings the deletion (the group's unsent changes dropped, told), and the rest goes again. Anything
      // else, or nothing taken off, ends the sync as before.
      if (await settledSincePull(error)) continue;
      // Refused still, with a group deletion from elsewhere waiting here: an entry moved into the group here and not sent
      // (agreed in another) is one no signed record takes out of it, so the deletion waits, and the server refuses every
      // push moving it there (hostile review of 0e347bd). Those changes stay here, told; the rest goes.
      if (error instanceof CrewvaultError && error.code === 'FORBIDDEN' && !holdDeletionWaiting && (await replica.outgoing(false, true, true)).deletionWaiting !== undefined) {
        holdDeletionWaiting = true;
        continue;
      }
      throw error;
    }
    pulledIds = new Set();
    await pullAll();
    // A newer server version this desktop refused (its sender may not do it, or it does not hold):
    // this desktop's own version goes over it, the refused one recorded in its audit log
    // (ReplicaService.overwriteRefused), instead of every later change of it waiting for ever.
    // Only the very version refused (the server's revision the conflict names): a newer one is judged by a pull first.
    const isRefused = (c: { readonly id: string; readonly revision: number }): boolean => refusedHere.get(c.id)?.revision === c.revision;
    const over = (refused?.conflicts ?? []).filter(isRefused);
    if (over.length > 0) await replica.overwriteRefused(over, new Map(over.map((c) => [c.id, refusedHere.get(c.id)?.reason ?? ''])));
    const unsettled = (refused?.conflicts ?? []).filter((c) => !isRefused(c));
    const stuck = stuckOnHeld(unsettled, heldNow) ?? leftOutOfPull(unsettled, pulledIds, heldNow);
    if (stuck) throw stuck;
  }
  throw new CrewvaultError('BUSY', 'Others kept changing the same entries while this desktop pushed: sync again.');
}
