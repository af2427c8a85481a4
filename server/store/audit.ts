/**
 * SQL for the server's audit (schema 4). Only this file reads or writes `server_audit` (the codes
 * batch's statement in store/codes.ts reads the tail with this file's SQL).
 * Appends take a transaction-scoped advisory lock, so two server processes never give two
 * events one sequence number or link both to the same predecessor.
 */
import { int, text, textOrNull, type Queryable, type Row } from './db';

/** pg_advisory_xact_lock's key for audit appends (migrate.ts uses another). */
const AUDIT_LOCK = 0x61756474;

export interface AuditRow {
  readonly seq: number;
  readonly at: number;
  readonly kind: string;
  readonly actorId: string | null;
  readonly subjectId: string | null;
  readonly source: string | null;
  readonly detail: string;
  readonly prevHash: string;
  readonly hash: string;
  readonly signature: string;
}

function toAudit(row: Row): AuditRow {
  return {
    seq: int(row, 'seq'), at: int(row, 'at'), kind: text(row, 'kind'),
    actorId: textOrNull(row, 'actor_id'), subjectId: textOrNull(row, 'subject_id'), source: textOrNull(row, 'source'),
    detail: text(row, 'detail'), prevHash: text(row, 'prev_hash'), hash: text(row, 'hash'), signature: text(row, 'signature'),
  };
}

/** The last event's seq and hash: what the next appended event links to. */
export interface AuditTail {
  readonly seq: number;
  readonly hash: string;
}

/**
 * The last event's `seq` and `hash` (no row: the log is empty), for a statement that reads the tail
 * beside its own work (server/store/codes.ts). Read only after lockAudit, in a statement started
 * after it: a statement's snapshot is taken when it starts, so one that waited for the lock itself
 * would miss the events committed while it waited.
 */
export const AUDIT_TAIL_SQL = 'SELECT seq, hash FROM server_audit ORDER BY seq DESC LIMIT 1';

/**
 * A FROM item that takes the audit's lock, once, whatever the rest of its statement yields (the
 * preserved side of a LEFT JOIN is read whole): for a statement that reads beside taking it
 * (store/codes.ts lookUpCodesLockingAudit). Its snapshot was taken before it waited, so that
 * statement must not read the audit; the one after it may (AUDIT_TAIL_SQL).
 */
export const AUDIT_LOCK_FROM = `(SELECT pg_advisory_xact_lock(${AUDIT_LOCK})) AS audit_lock`;

/** Locks appends until the transaction ends. */
export async function lockAudit(tx: Queryable): Promise<void> {
  await tx.query(`SELECT 1 FROM ${AUDIT_LOCK_FROM}`);
}

/** Locks appends until the transaction ends, then returns the last event's seq and hash. */
export async function lockAuditTail(tx: Queryable): Promise<AuditTail | undefined> {
  await lockAudit(tx);
  const [row] = await tx.query(AUDIT_TAIL_SQL);
  return row === undefined ? undefined : { seq: int(row, 'seq'), hash: text(row, 'hash') };
}

const AUDIT_ROWS_INSERT_SQL = `INSERT INTO server_audit (seq, at, kind, actor_id, subject_id, source, detail, prev_hash, hash, signature)
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])`;

/** Several rows in one statement (appendAuditBatch). */
export async function insertAuditRows(tx: Queryable, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  const column = <K extends keyof AuditRow>(key: K): Array<AuditRow[K]> => rows.map((row) => row[key]);
  await tx.query(AUDIT_ROWS_INSERT_SQL, [column('seq'), column('at'), column('kind'), column('actorId'), column('subjectId'), column('source'), column('detail'), column('prevHash'), column('hash'), column('signature')]);
}

/** Events after `afterSeq`, oldest first, at most `limit`; none past Number's safe range (rowsOutside counts those). */
export async function readAudit(db: Queryable, afterSeq: number, limit: number): Promise<AuditRow[]> {
  const rows = await db.query('SELECT * FROM server_audit WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3', [afterSeq, Number.MAX_SAFE_INTEGER, limit]);
  return rows.map(toAudit);
}

/**
 * How many rows lie outside the sequence 1..`last` as read (readAudit): numbered below 1, past
 * Number's safe range or not at all (never read), or beside another row of the same number at or
 * before `last` (the table's key dropped). Rows after `last` up to the safe range are appends made since.
 */
export async function rowsOutside(db: Queryable, last: number): Promise<number> {
  const [row] = await db.query(
    `SELECT count(*) - count(*) FILTER (WHERE seq > $1 AND seq <= $2) - $1 AS outside FROM server_audit`,
    [last, Number.MAX_SAFE_INTEGER],
  );
  return row === undefined ? 0 : int(row, 'outside');
}
