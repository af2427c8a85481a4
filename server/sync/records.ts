/**
 * A team vault's records on the server (docs/SYNC.md): what desktops push is checked against
 * what the server holds and stored in one transaction, each record at the vault's next
 * sequence number; desktops pull what was stored after the sequence they hold.
 *
 * What the server checks: the pusher is signed in with the second step done (app.ts), or holds
 * an automation token with the scope and for the vault (server/auth/automation-tokens.ts); a vault
 * it does not hold yet is started by an owner signed in; the account acts as the one vault user
 * an owner bound it to (or, once, the vault's creator as its owner: membership.ts), and every
 * signed record is in that user's name; who is who (user, group, member records) changes only as
 * the pusher's role and leads allow (membership.ts applyPeople), and an entry goes only into a
 * group the pusher holds, at its current key version (checkEntries); an object keeps its kind;
 * each entry's and customer's base is the revision the server holds and its revision moves on by
 * a sane step (else nothing is stored and the conflicts are named: the desktop pulls, takes them
 * in, and pushes again); an event or a signing key is stored once, never replaced. A pull hands
 * an entry only to its group's members (and owners and admins), and the record that moved one out
 * of a group to those who held that group then (schema 27: left-reach.ts), and with an entry's
 * record the moves of it kept, which a desktop may not have seen (schema 31: entry-moves.ts). What it cannot check, and leaves
 * to the receiving desktops: the senders' signatures and what sealed bytes hold (it holds no key).
 * Must never: store part of a push, or hand a record of one vault to a pull of another.
 */
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { entryRecordSchema, replicaRecordSchema, type EntryRecord, type PeopleRecord, type ReplicaRecord, type RoleRecord, type VaultObjectRecord } from '../../shared/sync/records';
import { requireVaultInReach, type Caller } from '../auth/automation-tokens';
import type { ServerContext } from '../context';
import { recordBatchSchema } from '../../shared/sync/record-batches';
import { batchesOf } from '../store/batches';
import { createVault, entriesLeftUnder, groupsStoredAfter, lockVault, putRecord, recordsAfter, restampGroupEntries, revisionsOf, sameNamedCustomers, vaultInfo } from '../store/sync';
import { membersStoredAfter } from '../store/sync';
import { readConsistently, type DatabaseTransaction, type Queryable, type Transaction } from '../store/db';
import { appendAuditBatch, type AuditEvent } from '../audit';
import { applyServerCodesSetting, codesRulesBefore } from '../codes/group-setting';
import { dropEndedSeals, type EntryPlace, type SealEnds } from '../store/code-seals';
import { pushBatcher } from './push-batch';
import { markFor, requireSameHistory } from './history-marks';
import { checkStillVerified, holdVerified, verifyBeforeLock } from './verify';
import { isEventV3, redactedEvent, storedScope, wholeEventsFor } from './events-v3';
import { putLeftReach, leftReachOf, leftReachRecordsOf } from '../store/left-reach';
import { entryMovesOf, putEntryMove } from '../store/entry-moves';
import { claimedByOthers, claimRotations, endClaimsOfRoles, ROTATION_CLAIM_MS } from '../store/rotation-claims';
import { datePushedJoins, groupsWithMembership, holdsEveryGroup, type GroupReads } from '../store/membership';
import { actingPerson, applyPeople, BINDING_SAVEPOINT, noSuchVaultFor, notAPerson, checkEntries, checkVaultObjects, holdsGroupNow, pullFilter, pullingPerson, type InVault, type PulledShape } from './membership';

/** What one push carries (the contract's batch: a vault and its records). */
export type PushBatch = ServerRouteInput<'syncPush'>['batch'];

/** How many records a pull returns when the desktop names no limit. */
const DEFAULT_PULL = 5_000;

function revisionOf(record: ReplicaRecord): number {
  return record.kind === 'signing_key' || record.kind === 'event' ? 1 : record.revision;
}

/** How far past what the server holds a record's revision may be (a revision out of reach would freeze the entry for everyone). */
const MAX_REVISION_STEP = 1_000_000;
/** About how many bytes of records one pull returns (at least one record). */
const PULL_BYTES = 8 * 1024 * 1024;

export async function push(ctx: ServerContext, auth: Caller, input: ServerRouteInput<'syncPush'>, source: string): Promise<ServerRouteOutput<'syncPush'>> {
  const { batch } = input;
  if (!/^[0-9a-f]{32}$/.test(batch.vault)) throw new CrewvaultError('INVALID_INPUT', 'batch.vault: not a vault id');
  const ids = batch.records.map((r) => r.id);
  if (new Set(ids).size !== ids.length) throw new CrewvaultError('INVALID_INPUT', 'A push names an object twice.');
  requireOneCustomerAName(batch.records);
  requireVaultInReach(auth, batch.vault);
  // Every signature, key and device link checked before the push queues for the vault's row (verify.ts).
  await verifyBeforeLock(ctx.db, batch, auth.user.id);
  // Pushes to one vault that arrive while another commits go together in the next transaction (push-batch.ts).
  const reply = await pushBatcher(ctx).take({ auth, batch, source, ...(input.pulled === undefined ? {} : { pulled: input.pulled }) });
  // The history mark at the reply's sequence, asked for (a desktop moving its cursor to it keeps it: history-marks.ts).
  return { ...reply, ...(await markFor(ctx.db, batch.vault, reply.seq, input.marks === true)) };
}

/** What the server holds of an object, as revisionsOf reads it: its kind, revision, and an entry's or membership's group. */
export type HeldRecord = { readonly kind: string; readonly revision: number; readonly group: string | null };

/** What a stored record leaves held (as revisionsOf would read it back): push-batch.ts keeps a batch's reads up to date with it. */
export function heldAfter(record: ReplicaRecord): HeldRecord {
  return { kind: record.kind, revision: revisionOf(record), group: record.kind === 'entry' || record.kind === 'member' ? record.group : null };
}

/**
 * What a batch's transaction read once for all its pushes and kept up to date with what each
 * stored (push-batch.ts): each is exactly what storePush would read at its turn. `held`: every
 * object of the batch's pushes; `person`: the pushing account as a person of the vault, bound
 * before and unchanged since (no people records in between).
 */
export interface KnownToPush {
  readonly held?: ReadonlyMap<string, HeldRecord>;
  readonly person?: InVault;
  /** The batch's reads of groups and memberships (taken only by a push without people records, which change them). */
  readonly groups?: GroupReads;
}

/** The vault's row as a push transaction holds it: its sequence so far (moved on by each push stored) and who moved it here. */
export interface HeldVault {
  readonly seq: number;
  readonly createdBy: string;
}

/**
 * Two new customers of one name in one push (docs/SYNC.md "Same-named customers"): a desktop
 * holds one customer a name (its name index is unique there), so such a push is not one of ours.
 */
function requireOneCustomerAName(records: readonly ReplicaRecord[]): void {
  const indexes = records.flatMap((r) => (r.kind === 'customer' ? [r.nameIndex] : []));
  if (new Set(indexes).size !== indexes.length) throw new CrewvaultError('INVALID_INPUT', 'A push adds two customers of the same name.');
}

/**
 * The customers the server holds already under the name index of a customer this push adds
 * (docs/SYNC.md "Same-named customers"): named as the push's conflicts, each at its revision, so
 * the pushing desktop pulls that customer and folds its own new one into it. Only new customers
 * are looked up (customers are never renamed), so a push without one reads nothing here.
 */
async function customersNamedAlready(tx: Transaction, vaultId: string, added: readonly ReplicaRecord[]): Promise<Array<{ id: string; revision: number }>> {
  const indexes = added.flatMap((r) => (r.kind === 'customer' ? [r.nameIndex] : []));
  if (indexes.length === 0) return [];
  return await sameNamedCustomers(tx, vaultId, indexes, added.map((r) => r.id));
}

/**
 * Judges and stores one push inside a transaction that holds the vault's row (`vault`, or
 * undefined when the server holds no such vault: an owner's push starts it), each record at the
 * sequence after `vault.seq`. Returns the push's reply and the vault as it stands after it; the
 * caller moves the vault's sequence (and notifies) once for all the pushes of its transaction.
 * Throws a refusal; a push without people records, into a vault held before and by an account
 * bound already, writes nothing before it can no longer be refused (push-batch.ts relies on it).
 * `pulled`: the sequence the pusher's pulls reached, when its desktop says (schema 29: strayEntriesOf).
 */
export async function storePush(
  tx: Transaction, ctx: ServerContext, auth: Caller, batch: PushBatch, source: string, held0: HeldVault | undefined, known: KnownToPush = {}, pulled?: number,
): Promise<{ readonly reply: ServerRouteOutput<'syncPush'>; readonly vault: HeldVault; readonly person: InVault; readonly stored: readonly ReplicaRecord[] }> {
  const ids = batch.records.map((r) => r.id);
  let vault = held0;
  let created = false;
  const startedVault: AuditEvent[] = [];
  if (vault === undefined) {
    // Moving a vault onto the server is an owner's act, and recorded.
    // Anyone else is answered as for a vault they are not a person of (review 13a hole 4: no vault ids told).
    if (auth.user.role !== 'owner') throw notAPerson();
    if (auth.token !== undefined) throw new CrewvaultError('FORBIDDEN', 'An automation token does not move a vault onto this server: an owner signs in to do that.');
    if (await createVault(tx, batch.vault, auth.user.id, ctx.now())) {
      created = true;
      // Appended once the push can no longer be refused (below): a signed row rolled back with a refused push would be
      // a signature of the server's its audit never holds (server/audit.ts).
      startedVault.push({ kind: 'sync.vault-created', actorId: auth.user.id, source, detail: { vault: batch.vault } });
    }
    vault = await lockVault(tx, batch.vault);
    if (vault === undefined) throw new CrewvaultError('INTERNAL', 'a vault just made is not there');
  }
  // Each account acts as one vault user, bound by an owner's desktop (a user record), or the
  // vault's creator binding itself once as its owner: records in another's name are refused.
  const signed = new Set(batch.records.flatMap((r) => ('author' in r ? [r.author] : [])));
  const person = known.person ?? await actingPerson(tx, batch.vault, vault.createdBy, auth.user.id, signed);
  for (const author of signed) {
    if (author !== person.vaultUser) throw new CrewvaultError('FORBIDDEN', 'These records are signed in another person\'s name.');
  }
  const held = known.held ?? await revisionsOf(tx, batch.vault, ids);
  // Who is who changes first (a rotation's new key version, a grant), then the entries are
  // judged by it; undone with the rest when the push meets conflicts. A push without people
  // records writes nothing before its conflicts are known, so it needs no savepoint, but for a
  // creator binding itself (actingPerson's own savepoint, before the people one).
  const peopleRecords = batch.records.filter((r): r is PeopleRecord => r.kind === 'user' || r.kind === 'group' || r.kind === 'member');
  if (peopleRecords.length > 0) await tx.query('SAVEPOINT people');
  // Entries this push moves out of a group or deletes: that group may be deleted beside them.
  const leaving = new Map<string, string[]>();
  for (const r of batch.records) {
    const from = r.kind === 'entry' && held.get(r.id)?.kind === 'entry' ? held.get(r.id)?.group : undefined;
    if (r.kind === 'entry' && from !== undefined && from !== null && (r.deletedAt !== null || r.group !== from)) leaving.set(from, [...(leaving.get(from) ?? []), r.id]);
  }
  // The custom roles this push defines, as written: a user record may give one (records.ts: objects go first).
  const pushedRoles = new Set(batch.records.flatMap((r) => (r.kind === 'role' ? [r.name] : [])));
  // Which wraps of a server-codes group's secret key someone already holds whose role may not (left be; a push adding one is
  // refused): group-setting.ts, which also refuses the push after which a member lacks a secret key held at the current version.
  const roles = batch.records.filter((r): r is RoleRecord => r.kind === 'role');
  const codesBefore = await codesRulesBefore(tx, batch.vault, peopleRecords, roles);
  const people = await applyPeople(tx, batch.vault, person, peopleRecords, leaving, pushedRoles);
  // Which groups the server computes codes of, as their records say (owners and admins only), and no secret key wrapped there for codes-only members.
  const codesEvents = await applyServerCodesSetting(tx, batch.vault, person, peopleRecords, people.stale, auth.user.id, source, codesBefore);
  // Custom roles, settings and the MFA policy: owners and admins only (task 15); their bases are judged below with the entries'.
  await checkVaultObjects(tx, batch.vault, person, batch.records.filter((r): r is VaultObjectRecord => r.kind === 'role' || r.kind === 'settings' || r.kind === 'mfa_policy'));
  const groupReads = peopleRecords.length > 0 ? undefined : known.groups;
  await checkEntries(tx, batch.vault, person, batch.records.flatMap((r) => (r.kind === 'entry' ? [{ record: r, heldGroup: held.get(r.id)?.kind === 'entry' ? held.get(r.id)?.group ?? undefined : undefined }] : [])), people.deleted, groupReads);
  // A key change another person's desktop is making there, refused a moment ago for entries (or the group's record) written
  // after its pull: held off until it lands or its claim runs out (schema 32), so writing or renaming steadily no longer
  // holds it off for good. Entries written live into the group, and the group's own record (a rename, a rotation, a deletion).
  // And a membership of the group (a grant, a re-wrap, a lead made, a removal): a manager changing one between each pull and
  // push of another's rotation held it off the same way (membersRevokedUnseen, membersChangedUnseen).
  const writtenInto = [...new Set(batch.records.flatMap((r) => (r.kind === 'entry' && r.deletedAt === null && r.group !== null ? [r.group] : r.kind === 'group' ? [r.id] : r.kind === 'member' ? [r.group] : [])))];
  // Read as checkEntries reads them (a batch's reads kept: no query more a push).
  const written = groupReads === undefined ? await groupsWithMembership(tx, batch.vault, person.vaultUser, writtenInto) : await groupReads.withMembership(tx, batch.vault, person.vaultUser, writtenInto);
  // But a membership of the claimant himself (his removal, his lead taken away): whoever may cut him off still does at once.
  const heldFrom = new Set(claimedByOthers(written, person.vaultUser, ctx.now()));
  if (batch.records.some((r) => (r.kind === 'entry' && r.deletedAt === null && r.group !== null && heldFrom.has(r.group)) || (r.kind === 'group' && heldFrom.has(r.id))
    || (r.kind === 'member' && heldFrom.has(r.group) && r.user !== written.get(r.group)?.claim?.user))) {
    throw new CrewvaultError('BUSY', 'An access group this push writes into is having its key changed on another desktop: nothing was stored. Sync again in a few seconds.');
  }
  const conflicts: Array<{ id: string; revision: number }> = [];
  const fresh: ReplicaRecord[] = [];
  const holdsGroup = await holdsGroupNow(tx, batch.vault, person, groupReads);
  for (const record of batch.records) {
    const current = held.get(record.id);
    // An entry or a membership of a group the pusher does not hold is not theirs to learn of (not even
    // its revision, in a conflict): what a pull would not hand them, a push's reply does not tell.
    if ((current?.kind === 'entry' || current?.kind === 'member') && current.group !== null && !holdsGroup(current.group) && !people.deleted.has(current.group)) {
      // Named by its id, which the pusher sent: a desktop's sync ends on this line until an owner or admin changes it (docs/SYNC.md).
      throw new CrewvaultError('FORBIDDEN', `The ${current.kind} ${record.id} changed here is in an access group you do not hold now (moved there, or your access removed), so the change cannot be sent: nothing was stored. Ask an owner or admin to give the group back, or to change it there.`);
    }
    if (current !== undefined && current.kind !== record.kind) {
      conflicts.push({ id: record.id, revision: current.revision }); // one id, one kind, for good
    } else if (record.kind === 'customer' || record.kind === 'entry' || record.kind === 'role' || record.kind === 'settings' || record.kind === 'mfa_policy') {
      const revision = current?.revision ?? 0;
      if (revision !== record.base || record.revision <= record.base || record.revision > record.base + MAX_REVISION_STEP) conflicts.push({ id: record.id, revision });
      else fresh.push(record);
    } else if (record.kind === 'user' || record.kind === 'group' || record.kind === 'member') {
      if (!people.stale.has(record.id)) fresh.push(record); // the newest an allowed person set
    } else if (record.kind === 'signing_key' && record.certifiedBy === null) {
      // A key that introduces itself is indexed only (verify.ts): a desktop takes none from a relay.
    } else if (current === undefined) {
      fresh.push(record); // keys and events: stored once, and never replaced
    }
  }
  const strays = await strayEntriesOf(tx, batch, people.rotated, pulled);
  conflicts.push(...strays.map(({ id, revision }) => ({ id, revision })));
  const changedUnseen = await groupsChangedUnseen(tx, batch.vault, [...new Set([...people.rotated.keys(), ...people.deletedBefore, ...people.revokedBelow])], pulled);
  conflicts.push(...changedUnseen);
  const membersUnseen = [...await membersRevokedUnseen(tx, batch, pulled), ...await membersChangedUnseen(tx, batch, pulled)];
  conflicts.push(...membersUnseen);
  conflicts.push(...await customersNamedAlready(tx, batch.vault, fresh.filter((r) => r.kind === 'customer' && held.get(r.id) === undefined)));
  if (conflicts.length > 0) {
    if (person.justBound === true) {
      // The binding goes too (and the people records after it): the creator is as unbound as before this push.
      await tx.query(`ROLLBACK TO SAVEPOINT ${BINDING_SAVEPOINT}`);
      await tx.query(`RELEASE SAVEPOINT ${BINDING_SAVEPOINT}`);
      await appendAuditBatch(tx, ctx, startedVault);
      return { reply: { accepted: 0, seq: vault.seq, conflicts }, vault, person: { vaultUser: null, role: 'owner' }, stored: [] };
    }
    if (peopleRecords.length > 0) await tx.query('ROLLBACK TO SAVEPOINT people');
    // Its rotation refused for entries written after its pull (or the group's record stored after it: a rename), the group is held for it a moment (rotation-claims.ts):
    // the desktop pulls them, seals them again and pushes at once, and nobody else's write gets in between.
    // Or a membership of a rotated group changed after it (a manager's grant, re-wrap or removal made in between).
    // Only the rotated groups that met such a write: a push rotating two groups, refused for a write in one, held the
    // other's writers off as well, though nothing there stood in its way (hostile review of the hold).
    const groupOfMember = new Map(batch.records.flatMap((r) => (r.kind === 'member' ? [[r.id, r.group] as const] : [])));
    const claimant = person.vaultUser;
    const claimed = claimant === null ? [] : [...new Set([...strays.map((s) => s.group), ...changedUnseen.map((c) => c.id), ...membersUnseen.map((c) => groupOfMember.get(c.id) ?? '')])]
      .filter((group) => people.rotated.has(group));
    // Audited, one event a group: a manager's refused rotations hold others' writes in that group off, and an owner reading
    // the server's log sees who held which group, and how often (a hold pushed again and again is visible, not silent).
    const until = ctx.now() + ROTATION_CLAIM_MS;
    if (claimed.length > 0 && claimant !== null) {
      await checkStillVerified(tx, batch, auth.user.id, created);
      await claimRotations(tx, batch.vault, claimed, claimant, until);
    }
    const heldEvents: AuditEvent[] = claimed.map((group) => ({ kind: 'sync.key-change-held', actorId: auth.user.id, source, detail: { vault: batch.vault, group, until } }));
    // The vault stays started (before either savepoint); what the people records changed does not.
    await appendAuditBatch(tx, ctx, [...startedVault, ...heldEvents]);
    return { reply: { accepted: 0, seq: vault.seq, conflicts }, vault, person, stored: [] };
  }
  // What the signature check relied on still stands under the lock; the push's new keys and device heads go with it.
  await holdVerified(tx, batch, auth.user.id, created);
  let seq = vault.seq;
  for (const record of fresh) {
    seq++;
    // A v3 event's scope and body digest stored beside it (checked in verify.ts): what a member who does not hold its group is handed.
    const v3 = record.kind === 'event' && isEventV3(record) ? storedScope(batch.vault, record) : {};
    await putRecord(tx, batch.vault, { id: record.id, kind: record.kind, revision: revisionOf(record), seq, body: JSON.stringify(record), ...v3 }, auth.user.id);
    await noteMove(tx, batch.vault, record, held.get(record.id), seq);
  }
  // A custom role redefined may no longer manage groups: its holders' holds for a key change end (rotation-claims.ts).
  await endClaimsOfRoles(tx, batch.vault, fresh.flatMap((r) => (r.kind === 'role' ? [r.name] : [])));
  // A new member's desktop skipped the group's entries until now: they come again, after the grant.
  for (const groupId of people.joined) seq = await restampGroupEntries(tx, batch.vault, groupId, seq);
  // A membership this push made dates from after its records: a move out of the group in the same push is not told the new member.
  await datePushedJoins(tx, batch.vault, people.joins, seq);
  // The server holds an entry's sealed OTP key only while it is live in a group whose codes it computes: what this push ended goes with it.
  const sealsEnded = await dropEndedSeals(tx, batch.vault, sealEndsOf(fresh, held), { id: auth.user.id, source });
  // Audited last, when nothing of the push can be refused any more.
  await appendAuditBatch(tx, ctx, [...startedVault, ...codesEvents, ...sealsEnded]);
  return { reply: { accepted: fresh.length, seq, conflicts: [] }, vault: { seq, createdBy: vault.createdBy }, person, stored: fresh };
}

/**
 * Entries a rotation in this push would leave under the key it replaces (review R1): live in a
 * group the push moves to a new key version, sealed under an older one, stored after the sequence
 * the pusher's pulls reached (so its desktop's rotation never re-sealed them) and not written by
 * this push (re-sealed, deleted or moved out). Named as conflicts: the desktop pulls them, seals
 * them again under the new key (replica-service.ts takeAcrossRotation) and pushes again. Entries
 * stored before that sequence were in what the rotating desktop held: it re-seals them, in this
 * part or in a later one of the same push (electron/team/sync.ts partsOf sends who is who first).
 * A desktop that does not say how far it pulled (before schema 29) is not judged so.
 */
async function strayEntriesOf(tx: Transaction, batch: PushBatch, rotated: ReadonlyMap<string, number>, pulled: number | undefined): Promise<Array<{ id: string; revision: number; group: string }>> {
  if (pulled === undefined || rotated.size === 0) return [];
  const written = batch.records.flatMap((r) => (r.kind === 'entry' ? [r.id] : []));
  const strays: Array<{ id: string; revision: number; group: string }> = [];
  for (const [groupId, keyVersion] of rotated) strays.push(...(await entriesLeftUnder(tx, batch.vault, groupId, keyVersion, pulled, written)).map((s) => ({ ...s, group: groupId })));
  return strays;
}

/**
 * Groups a rotation in this push moves to a new key version whose record the server stored after
 * the sequence the pusher's pulls reached: a change made elsewhere (a rename, a rotation) that the
 * rotating desktop never took in. Stored, the rotation's record wrote the group's old name back over
 * a rename, and a manager holding the rename sent it again under their own signature (hostile
 * review of 0571e01). Named as conflicts, as strayEntriesOf's are: the desktop pulls the record, takes
 * its rename under its own unsent rotation (replica-people-in.ts takeGroup) and pushes the rotation
 * again, past it; nothing of the rotation is lost, and its next push is not judged so for that record.
 * `groupIds` also holds the groups this push sends a live record of that the server holds deleted
 * (applyPeople's deletedBefore): their newest stored record is the deletion, so one stored after
 * `pulled` is named the same way. Answered stale alone, the desktop marked its rotation or rename
 * sent and then judged the deletion older than it: the group stayed there for good. Pulled, the
 * deletion drops the unsent change (replica-people-new.ts deletionStale, takeDelete), told.
 * And the groups this push revokes a member of below the version the server holds (applyPeople's revokedBelow: a
 * revoke ahead of its rotation): one rotated after `pulled` is named the same way, so the revoking desktop pulls that
 * rotation, gives way to it, and revokes again past it (revoke-first-crossing-rotation.test.ts).
 */
async function groupsChangedUnseen(tx: Transaction, vaultId: string, groupIds: readonly string[], pulled: number | undefined): Promise<Array<{ id: string; revision: number }>> {
  if (pulled === undefined || groupIds.length === 0) return [];
  return await groupsStoredAfter(tx, vaultId, groupIds, pulled);
}

/**
 * Grants and re-wraps in this push of a membership whose revoke the server stored after the
 * sequence the pusher's pulls reached. A revoke goes ahead of its rotation, at the key version the
 * server holds (electron/team/sync.ts partsOf), so until the rotation lands no version bump makes
 * such a wrap stale (applyPeople): a manager who never saw the revoke gave the member the group
 * again (a grant, or their own rotation's re-wrap). Named as conflicts: the desktop pulls the revoke,
 * takes it (under its own unsent rotation, replica-people-in.ts takeRevokeUnderOwnRotation) and
 * pushes again without the member. A desktop that does not say how far it pulled (before schema 29)
 * is not judged so; the revoke's rotation, landing, drops a wrap below its version.
 */
async function membersRevokedUnseen(tx: Transaction, batch: PushBatch, pulled: number | undefined): Promise<Array<{ id: string; revision: number }>> {
  if (pulled === undefined) return [];
  const wraps = batch.records.flatMap((r) => (r.kind === 'member' && !r.revoked ? [r.id] : []));
  return await membersStoredAfter(tx, batch.vault, wraps, pulled, true);
}

/**
 * Revokes in this push of a membership whose record the server stored after the sequence the pusher's pulls reached (a
 * lead made, a re-wrap, another's revoke, made elsewhere at the version held). Both sides write the membership one
 * above the revision they last agreed, so the two records carry the same one: a revoke stored over the other, going
 * ahead of its rotation (electron/team/sync.ts partsOf), was read by the desktops holding the other as no newer than it
 * (the member kept there, his own desktop keeping the group even after the rotation, set aside for want of a removal
 * at its version), while the server had cut him off. Named as conflicts: the desktop pulls that record, lifts its
 * revoke above it (store-replica-people.ts raiseNotedRevoke) and pushes again (revoke-first-crossing-lead.test.ts).
 * Not judged for a desktop that does not say how far it pulled (before schema 29).
 */
async function membersChangedUnseen(tx: Transaction, batch: PushBatch, pulled: number | undefined): Promise<Array<{ id: string; revision: number }>> {
  if (pulled === undefined) return [];
  const revokes = batch.records.flatMap((r) => (r.kind === 'member' && r.revoked ? [r.id] : []));
  return await membersStoredAfter(tx, batch.vault, revokes, pulled, false);
}

/**
 * What a push's stored records end of the server's sealed OTP keys (store/code-seals.ts): each entry
 * that left the group the server held it in (moved, or deleted), and each group deleted.
 */
function sealEndsOf(stored: readonly ReplicaRecord[], held: ReadonlyMap<string, HeldRecord>): SealEnds {
  const entries = stored.flatMap((r): EntryPlace[] => {
    const before = held.get(r.id);
    if (r.kind !== 'entry' || before?.kind !== 'entry' || before.group === null) return [];
    if (r.deletedAt !== null) return [{ entry: r.id, group: null }];
    return r.group === before.group ? [] : [{ entry: r.id, group: r.group }];
  });
  return { entries, groups: stored.flatMap((r) => (r.kind === 'group' && r.deletedAt !== null ? [r.id] : [])) };
}

/**
 * An entry moved out of a group: that group's members who do not hold the new one are handed
 * nothing of it, so the move is noted for their pulls to tell (review 13b hole 4, review 14 hole
 * 1: server/store/left-reach.ts); and kept for desktops that did not see it, handed with the
 * entry's next record (schema 31: server/store/entry-moves.ts), which they judge from where the
 * move put it.
 */
async function noteMove(tx: Transaction, vaultId: string, record: ReplicaRecord, before: HeldRecord | undefined, seq: number): Promise<void> {
  if (record.kind !== 'entry' || before?.kind !== 'entry' || before.group === null || before.group === record.group) return;
  const body = JSON.stringify(record);
  await putLeftReach(tx, vaultId, record.id, before.group, seq, body);
  await putEntryMove(tx, vaultId, record.id, before.group, seq, body);
}

/**
 * The moves of the entries this page hands, which a desktop may not have seen (schema 31, asked by
 * `moves`; docs/SYNC.md "A move a desktop did not see"): each kept, stored before the entry's record
 * handed, out of a group this person held before it left or into one they hold (`visible`). Not bounded by the pull's cursor: a
 * move's own record is gone from the records (the server keeps an entry's newest), so the page its
 * sequence fell on, or an earlier sync's, handed nothing of it, and the desktop's cursor passed it.
 * Handed in the same page as the record, so the desktop judges them together; it keeps those newer
 * than the revision it agreed and checks each as any record (a forged or replayed one moves nothing).
 */
async function movesFor(db: Queryable, input: ServerRouteInput<'syncPull'>, me: InVault, handed: ReadonlyArray<{ readonly seq: number; readonly record: ReplicaRecord }>, visible: (record: PulledShape) => boolean): Promise<{ moves?: EntryRecord[] }> {
  if (input.moves !== true) return {};
  const entrySeq = new Map(handed.flatMap((r) => (r.record.kind === 'entry' ? [[r.record.id, r.seq] as const] : [])));
  const every = holdsEveryGroup(me.role);
  const moves = (await entryMovesOf(db, input.vault, [...entrySeq.keys()], me.vaultUser)).flatMap((move) => {
    if (move.seq >= (entrySeq.get(move.recordId) ?? 0)) return [];
    const parsed = entryRecordSchema.safeParse(JSON.parse(move.body));
    if (!parsed.success) return [];
    // Out of a group only to whom held it before the entry left (as left reach): one who joined it since never held
    // the entry there, and would be told a group it went to that they may never have held (hostile review of e041305).
    const fromHeld = every || move.fromHeldBefore;
    return (fromHeld && visible({ kind: 'entry', group: move.fromGroup })) || visible(parsed.data) ? [parsed.data] : [];
  });
  return moves.length > 0 ? { moves } : {};
}

/**
 * Entries that left this person's reach (moved out of a group they hold into one they do not)
 * within the page's range: asked for by `left` (schema 25: their ids alone, for a desktop from
 * before schema 27) or `leftRecords` (schema 27: the signed record that moved each, review 14
 * hole 1, for the desktop to check before it drops anything). A desktop from before either would
 * refuse the field. Owners and admins hold every group: none.
 */
async function leftReachFor(db: Queryable, input: ServerRouteInput<'syncPull'>, me: InVault, upTo: number): Promise<{ left?: string[]; leftRecords?: EntryRecord[] }> {
  if (me.vaultUser === null || holdsEveryGroup(me.role)) return {};
  if (input.leftRecords === true) {
    // Stored as pushed, checked then; parsed again on the way out as the page's records are (one that no longer parses is left out).
    const records = (await leftReachRecordsOf(db, input.vault, me.vaultUser, input.since, upTo)).flatMap((body) => {
      const parsed = entryRecordSchema.safeParse(JSON.parse(body));
      return parsed.success ? [parsed.data] : [];
    });
    return records.length > 0 ? { leftRecords: records } : {};
  }
  if (input.left !== true) return {};
  const left = await leftReachOf(db, input.vault, me.vaultUser, input.since, upTo);
  return left.length > 0 ? { left } : {};
}

export async function pull(ctx: ServerContext, auth: Caller, input: ServerRouteInput<'syncPull'>): Promise<ServerRouteOutput<'syncPull'>> {
  requireVaultInReach(auth, input.vault);
  // Who may see what and the records handed, read as one view (db.ts readConsistently): a revoke
  // committed between two of these reads would hand the revoked member that group's records.
  return readConsistently(ctx.db, (db) => pullIn(db, auth, input));
}

async function pullIn(db: DatabaseTransaction, auth: Caller, input: ServerRouteInput<'syncPull'>): Promise<ServerRouteOutput<'syncPull'>> {
  const vault = await vaultInfo(db, input.vault);
  if (vault === undefined) throw noSuchVaultFor(auth.user.role);
  // Only a person of the vault pulls, and is handed only the groups they hold now.
  const me = await pullingPerson(db, input.vault, vault.createdBy, auth.user.id);
  // A cursor this server's history does not hold (restored from a backup, the vault replaced) is never answered "caught up".
  await requireSameHistory(db, input.vault, vault.seq, input.since, input.mark);
  const visible = await pullFilter(db, input.vault, me, input.kinds);
  const whole = await wholeEventsFor(db, input.vault, me);
  const rows = await recordsAfter(db, input.vault, input.since, input.limit ?? DEFAULT_PULL, PULL_BYTES);
  // Stored as they were checked when pushed; parsed again on the way out, as the contract says. A v3 event of a group this
  // person does not hold goes redacted: its header, body digest and signature (events-v3.ts). A record stored before
  // the contract refused its shape (a role spelt otherwise, a policy naming a role twice: review round twelve (a)) is
  // left out, as a push of it would be refused now: handed over, every desktop's parse would refuse the whole page.
  const records = rows.flatMap((row) => {
    const parsed = replicaRecordSchema.safeParse(JSON.parse(row.body));
    if (!parsed.success) return [];
    const record = parsed.data;
    const redact = record.kind === 'event' && row.scope !== null && row.bodyDigest !== null && !whole(record.id, row.scope);
    return [{ seq: row.seq, record: redact && record.kind === 'event' && row.bodyDigest !== null ? redactedEvent(record, row.bodyDigest) : record }];
  }).filter((r) => visible(r.record));
  // Up to the last record read, handed over or not: what was left out is not this person's.
  const upTo = rows.at(-1)?.seq ?? input.since;
  const left = await leftReachFor(db, input, me, upTo);
  const moved = await movesFor(db, input, me, records, visible);
  // The signed batches the records handed name (format 2), each whole: only those (a batch lists digests only, but of records this person may not see).
  const named = [...new Set([...records.map((r) => r.record), ...(left.leftRecords ?? []), ...(moved.moves ?? [])].flatMap((r) => ((r.kind === 'customer' || r.kind === 'entry') && r.batch !== undefined ? [r.batch] : [])))];
  const batches = [...(await batchesOf(db, input.vault, named)).values()].map((body) => recordBatchSchema.parse(JSON.parse(body)));
  return { records, upTo, more: upTo < vault.seq, ...(batches.length > 0 ? { batches } : {}), ...left, ...moved, ...(await markFor(db, input.vault, upTo, input.marks === true)) };
}
