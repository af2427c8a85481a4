/**
 * The server's own audit: sign-ins, sessions ended, password changes, registrations,
 * invites and second steps (`mfa.*`: set up, each code right or wrong, an attempt ended, an
 * emergency code issued by whom for whom, the policy set, a code e-mailed or texted), devices
 * authorised, trusted and removed, contacts set, the e-mail and SMS settings set and tested, and
 * automation tokens made, used (once a minute each) and revoked, permissions granted to admins and
 * taken back, and a start with --allow-remote-admin. Each event is hash-linked to the one before and
 * the last event of each append (one event, or a batch of them) is signed with the server's Ed25519
 * key (server/keys.ts) over its hash and the sequence number its batch starts at: the hash covers the
 * link to the event before it, and so on back to the batch's first, and the start says where the
 * events it vouches for begin, so unsigned events slipped in before an append of the server's (which
 * links to whatever ends the log) are not taken as its batch's. `verifyAudit` finds a row that was
 * changed, removed or slipped in later by someone with only the database, and a log that ends on an
 * unsigned event (the end of a batch cut off) as well. Removing whole appends from the end is not
 * found (it never was: that needs the last signed event kept somewhere else).
 * (Someone who also holds the key file can rewrite it: the limit of any server-kept log.)
 *
 * Must never: hold a secret, or a name typed at a sign-in that failed (it may be a password
 * typed in the wrong field): events carry ids, the client's address and fields chosen here.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import type { ServerContext } from './context';
import type { Queryable, Transaction } from './store/db';
import { insertAuditRows, lockAuditTail, readAudit, rowsOutside, type AuditRow, type AuditTail } from './store/audit';

export type AuditKind =
  | 'account.registered'
  | 'invite.created'
  | 'sign-in.succeeded'
  | 'sign-in.failed'
  | 'session.signed-out'
  | 'session.copy-detected'
  | 'password.changed'
  | 'mfa.enrolment-started'
  | 'mfa.enrolled'
  | 'mfa.code'
  | 'mfa.recovery'
  | 'mfa.recovery-codes-viewed'
  | 'mfa.emergency-issued'
  | 'mfa.emergency'
  | 'mfa.attempt-ended'
  | 'mfa.policy-set'
  | 'mfa.disabled'
  | 'mfa.recovery-codes-renewed'
  | 'mfa.reset'
  | 'mfa.idle-set'
  | 'user.external-set'
  | 'mfa.email-sent'
  | 'mfa.email'
  | 'mfa.sms-sent'
  | 'mfa.sms'
  | 'contact.set'
  | 'device.authorised'
  | 'device.trusted'
  | 'device.removed'
  | 'settings.smtp-set'
  | 'settings.smtp-tested'
  | 'settings.sms-set'
  | 'settings.sms-tested'
  | 'sync.vault-created'
  | 'sync.key-change-held'
  | 'token.created'
  | 'token.used'
  | 'token.revoked'
  | 'grant.given'
  | 'grant.revoked'
  | 'server.remote-admin-allowed'
  | 'codes.computed'
  | 'codes.key-sealed'
  | 'codes.key-removed'
  | 'codes.code-key-rotated'
  | 'codes.code-key-deleted';

export interface AuditEvent {
  readonly kind: AuditKind;
  /** Who acted (a user id), when someone signed in did. */
  readonly actorId?: string | null;
  /** Whom it concerns (a user id). */
  readonly subjectId?: string | null;
  /** The client's address. */
  readonly source?: string | null;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** The link before the first event. */
export const GENESIS_HASH = '0'.repeat(64);

function canonicalDetail(detail: AuditEvent['detail']): string {
  const entries = Object.entries(detail ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/** The signature column of an event whose append signed a later event (the last of its batch). */
const UNSIGNED = '';
/** An Ed25519 signature as stored: 64 bytes, base64url without padding (Node's decoder would skip stray characters). */
const SIGNATURE_TEXT = /^[A-Za-z0-9_-]{86}$/;
const BATCH_SIGNATURE = Buffer.from('crewvault-audit-batch\0', 'utf8');

/** What an append's signature is over: its last event's hash and the sequence number of its first event. */
function batchMessage(hash: string, firstSeq: number): Buffer {
  const start = Buffer.alloc(8);
  start.writeBigUInt64BE(BigInt(firstSeq));
  return Buffer.concat([BATCH_SIGNATURE, Buffer.from(hash, 'hex'), start]);
}

function signedBatch(ctx: Pick<ServerContext, 'keys'>, hash: string, firstSeq: number): string {
  return sign(null, batchMessage(hash, firstSeq), ctx.keys.auditKey).toString('base64url');
}

/**
 * Whether `signature` is the server's over the append of events `firstSeq`..this one, ending in `hash`.
 * An event signed alone before appends were signed a batch at a time carries a signature over its
 * hash only: taken for an append of that one event, never as vouching for events before it.
 */
function vouches(publicKey: KeyObject, hash: string, firstSeq: number, alone: boolean, signature: string): boolean {
  if (!SIGNATURE_TEXT.test(signature)) return false;
  const bytes = Buffer.from(signature, 'base64url');
  if (verify(null, batchMessage(hash, firstSeq), publicKey, bytes)) return true;
  return alone && verify(null, Buffer.from(hash, 'hex'), publicKey, bytes);
}

/** SHA-256 over every field but the hash and signature, in a fixed order. */
function eventHash(row: Omit<AuditRow, 'hash' | 'signature'>): string {
  const fields = [row.seq, row.at, row.kind, row.actorId, row.subjectId, row.source, row.detail, row.prevHash];
  return createHash('sha256').update(JSON.stringify(fields), 'utf8').digest('hex');
}

/**
 * Appends one event inside the caller's transaction (so it commits with what it records, or
 * not at all); the transaction handle is required because the append lock lasts until commit.
 */
export async function appendAudit(tx: Transaction, ctx: Pick<ServerContext, 'keys' | 'now'>, event: AuditEvent): Promise<void> {
  await appendAuditBatch(tx, ctx, [event]);
}

/**
 * Appends several events, in order, inside the caller's transaction, under one lock and in one
 * statement (server-computed codes audit each request, thousands a second: server/codes/).
 * Each event is chained to the one before; the last one is signed (auditRowsAfter).
 */
export async function appendAuditBatch(tx: Transaction, ctx: Pick<ServerContext, 'keys' | 'now'>, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await appendAuditBatchAfter(tx, ctx, await lockAuditTail(tx), events);
}

/**
 * appendAuditBatch for a caller that took the lock (store/audit.ts lockAudit) and read the tail
 * itself, in a statement started after the lock was held (the codes batch reads it with its
 * counts: one round trip fewer a batch). `tail` undefined: the log is empty.
 */
export async function appendAuditBatchAfter(tx: Transaction, ctx: Pick<ServerContext, 'keys' | 'now'>, tail: AuditTail | undefined, events: readonly AuditEvent[]): Promise<void> {
  await insertAuditRows(tx, auditRowsAfter(ctx, tail, events));
}

/**
 * The rows `events` are as appended after `tail` (undefined: the log is empty), each chained to
 * the one before; written by nobody here. Made only to be written at once: a caller sends them
 * in a statement that writes them all, late enough in its transaction that nothing refuses or rolls
 * it back after (a signed row sent and not kept could be appended later by whoever saw it).
 * Only the last row is signed, over its hash and the batch's first sequence number (the others'
 * signature is empty): its hash covers the whole batch through the links, the rows are committed
 * together or not at all, and one Ed25519 signature a row was ~11% of the server's time a code
 * (docs/SYNC.md "Speed", the writes' list, step 10).
 */
function auditRowsAfter(ctx: Pick<ServerContext, 'keys' | 'now'>, tail: AuditTail | undefined, events: readonly AuditEvent[]): AuditRow[] {
  let seq = tail?.seq ?? 0;
  let prevHash = tail?.hash ?? GENESIS_HASH;
  const firstSeq = seq + 1;
  const lastSeq = seq + events.length;
  const at = ctx.now();
  const rows: AuditRow[] = [];
  for (const event of events) {
    seq += 1;
    const unsigned = {
      seq, at, kind: event.kind, actorId: event.actorId ?? null, subjectId: event.subjectId ?? null, source: event.source ?? null,
      detail: canonicalDetail(event.detail), prevHash,
    };
    const hash = eventHash(unsigned);
    rows.push({ ...unsigned, hash, signature: seq === lastSeq ? signedBatch(ctx, hash, firstSeq) : UNSIGNED });
    prevHash = hash;
  }
  return rows;
}

/** Appends one event in a transaction of its own (for acts that need no other write). */
export async function recordAudit(ctx: ServerContext, event: AuditEvent): Promise<void> {
  await ctx.db.transaction((tx) => appendAudit(tx, ctx, event));
}

export type AuditCheck = { readonly ok: true; readonly events: number } | { readonly ok: false; readonly seq: number; readonly reason: string };

/**
 * Walks the whole audit: sequence without gaps, each link, each hash, and each signature, which
 * vouches for its event and, through the links, for the unsigned events of its batch before it: the
 * run of unsigned events since the last signature must start where the signature says its batch
 * did. A log ending on an unsigned event (its batch's last, signed one removed) fails at that
 * batch's first.
 */
export async function verifyAudit(db: Queryable, publicKey: KeyObject): Promise<AuditCheck> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  /** The first event since the last signed one: vouched for by none yet. */
  let unvouched: number | undefined;
  for (;;) {
    const rows = await readAudit(db, expectedSeq - 1, 1000);
    if (rows.length === 0) {
      if (unvouched !== undefined) return { ok: false, seq: unvouched, reason: 'the events from here on are signed by no later event' };
      // Rows the walk by number never reads: before the first, past the safe range, a second row of one number.
      if (await rowsOutside(db, expectedSeq - 1) > 0) return { ok: false, seq: expectedSeq, reason: 'events lie outside the sequence' };
      return { ok: true, events: expectedSeq - 1 };
    }
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, seq: expectedSeq, reason: 'an event is missing' };
      if (row.prevHash !== prevHash) return { ok: false, seq: row.seq, reason: 'the link to the event before is broken' };
      const { hash, signature, ...unsigned } = row;
      if (eventHash(unsigned) !== hash) return { ok: false, seq: row.seq, reason: 'the event was changed' };
      if (signature === UNSIGNED) {
        unvouched ??= row.seq;
      } else if (!vouches(publicKey, hash, unvouched ?? row.seq, unvouched === undefined, signature)) {
        return { ok: false, seq: row.seq, reason: 'the signature is not the server\'s' };
      } else {
        unvouched = undefined;
      }
      prevHash = hash;
      expectedSeq += 1;
    }
  }
}
