/**
 * SQL for team vaults' records (schema 11). Only this file reads or writes `sync_vaults` and
 * `sync_records` (who is who: membership.ts; a push batch's record writes: records-in-line.ts). A record's body is stored as its desktop sent it (JSON); the columns beside
 * it are what the server orders and checks by.
 */
import { CrewvaultError } from '../../shared/errors';
import { rowsByKeys } from './by-keys';
import { int, text, textOrNull, type DatabaseTransaction, type Queryable, type Transaction } from './db';
import type { RawRow } from './raw-rows';
import { newHistoryMark } from './history-marks';
import { Params, RecordsInLine, recordsPutSql, type StoredRecord } from './records-in-line';

/** The vault's row, locked for this transaction (pushes to one vault take turns); undefined when the server holds no such vault. */
export async function lockVault(tx: Transaction, vaultId: string): Promise<{ readonly seq: number; readonly createdBy: string } | undefined> {
  const [row] = await tx.query('SELECT seq, created_by FROM sync_vaults WHERE vault_id = $1 FOR UPDATE', [vaultId]);
  return row === undefined ? undefined : { seq: int(row, 'seq'), createdBy: text(row, 'created_by') };
}

/** Starts a vault unless another push just did (true: this one did). Two first pushes at once: one makes it, the other waits on its row. */
export async function createVault(tx: Transaction, vaultId: string, userId: string, now: number): Promise<boolean> {
  const rows = await tx.query('INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ($1, 0, $2, $3) ON CONFLICT (vault_id) DO NOTHING RETURNING vault_id', [vaultId, userId, now]);
  return rows.length === 1;
}

/** Which account signs as each of these vault users (bound at their first push). */
export async function authorsOf(tx: Transaction, vaultId: string, authors: readonly string[]): Promise<Map<string, string>> {
  if (authors.length === 0) return new Map();
  const rows = await tx.query('SELECT author, user_id FROM sync_authors WHERE vault_id = $1 AND author = ANY($2::text[])', [vaultId, [...authors]]);
  return new Map(rows.map((row) => [text(row, 'author'), text(row, 'user_id')]));
}

export async function bindAuthor(tx: Transaction, vaultId: string, author: string, userId: string): Promise<void> {
  await tx.query('INSERT INTO sync_authors (vault_id, author, user_id) VALUES ($1, $2, $3)', [vaultId, author, userId]);
}

export async function vaultExists(db: Queryable, vaultId: string): Promise<boolean> {
  return (await vaultSeq(db, vaultId)) !== undefined;
}

/** The vault's sequence as stored now; undefined when the server holds no such vault. */
export async function vaultSeq(db: Queryable, vaultId: string): Promise<number | undefined> {
  const [row] = await db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [vaultId]);
  return row === undefined ? undefined : int(row, 'seq');
}

/** The vault's sequence and the account that moved it here; undefined when the server holds no such vault. */
export async function vaultInfo(db: Queryable, vaultId: string): Promise<{ readonly seq: number; readonly createdBy: string; readonly createdAt: number } | undefined> {
  const [row] = await db.query('SELECT seq, created_by, created_at FROM sync_vaults WHERE vault_id = $1', [vaultId]);
  return row === undefined ? undefined : { seq: int(row, 'seq'), createdBy: text(row, 'created_by'), createdAt: int(row, 'created_at') };
}

/**
 * Moves the vault's sequence on; with `notice`, also `NOTIFY`s it (delivered on commit) in the same
 * statement: a push's last step inside the vault's lock, one round trip rather than two. On a
 * RecordsInLine what waits there (records, batches) is written by the same statement.
 */
export async function setVaultSeq(tx: Transaction, vaultId: string, seq: number, notice?: { readonly channel: string; readonly payload: string }): Promise<void> {
  const p = new Params();
  const vault = p.add(vaultId);
  const waiting = tx instanceof RecordsInLine ? tx.takeWaiting(vaultId, p, vault) : [];
  const to = p.add(seq);
  // The transaction's history mark at the sequence it ends on, in the same statement (history-marks.ts: what tells a restore).
  const marked = `marked AS (INSERT INTO sync_history_marks (vault_id, seq, mark) VALUES (${vault}, ${to}, ${p.add(newHistoryMark())}) ON CONFLICT (vault_id, seq) DO UPDATE SET mark = excluded.mark)`;
  const notify = notice === undefined ? '' : ` RETURNING pg_notify(${p.add(notice.channel)}, ${p.add(notice.payload)})::text`;
  await tx.query(`WITH ${[...waiting, marked].join(',\n     ')}\n     UPDATE sync_vaults SET seq = ${to} WHERE vault_id = ${vault}${notify}`, p.values);
}

/** revisionsOf's read, each object by its key (store/by-keys.ts): exported for test/server/key-read-plans.test.ts. */
export const REVISIONS_SQL = `SELECT r.record_id, r.kind, r.revision, r.grp FROM ${rowsByKeys({
  table: 'sync_records', key: 'record_id', vault: '$1', keys: '$2::text[]', as: 'r',
  columns: "record_id, kind, revision, CASE WHEN kind IN ('entry', 'member') THEN body->>'group' END AS grp",
})}`;

/** entryShapesOf's read, each entry by its key: exported for that test too. */
export const ENTRY_SHAPES_SQL = `SELECT e.record_id, e.customer, e.lookup, e.deleted FROM ${rowsByKeys({
  table: 'sync_records', key: 'record_id', vault: '$1', keys: '$2::text[]', as: 'e',
  columns: "record_id, kind, body->>'customer' AS customer, body->>'lookup' AS lookup, (body->>'deletedAt') IS NOT NULL AS deleted",
})} WHERE e.kind = 'entry'`;

/** The kind and revision the server holds for each of these objects (absent: never stored), and an entry's or a membership's group. */
export async function revisionsOf(tx: Transaction, vaultId: string, ids: readonly string[]): Promise<Map<string, { readonly kind: string; readonly revision: number; readonly group: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query(REVISIONS_SQL, [vaultId, [...ids]]);
  return new Map(rows.map((row) => [text(row, 'record_id'), { kind: text(row, 'kind'), revision: int(row, 'revision'), group: textOrNull(row, 'grp') }]));
}

/**
 * The customers stored in the vault under any of these name indexes (a customer's keyed name,
 * opaque here), but those of `except`: each with its revision. Customers have no tombstone, so
 * every one stored is live. Read by a push that adds a customer (records.ts customersNamedAlready).
 */
export async function sameNamedCustomers(tx: Transaction, vaultId: string, nameIndexes: readonly string[], except: readonly string[]): Promise<Array<{ id: string; revision: number }>> {
  const rows = await tx.query(
    "SELECT record_id, revision FROM sync_records WHERE vault_id = $1 AND kind = 'customer' AND body->>'nameIndex' = ANY($2::text[]) AND NOT (record_id = ANY($3::text[])) ORDER BY seq",
    [vaultId, [...nameIndexes], [...except]],
  );
  return rows.map((row) => ({ id: text(row, 'record_id'), revision: int(row, 'revision') }));
}

/**
 * What the server can see of stored entries without opening them: their customer, their lookup
 * (keyed by the title) and whether each is a tombstone. Read only to judge a push by a role that
 * may not make every entry write (server/sync/membership.ts requireRoleMayWrite).
 */
export async function entryShapesOf(tx: Transaction, vaultId: string, ids: readonly string[]): Promise<Map<string, { readonly customer: string | null; readonly lookup: string | null; readonly deleted: boolean }>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query(ENTRY_SHAPES_SQL, [vaultId, [...ids]]);
  return new Map(rows.map((row) => [text(row, 'record_id'), { customer: textOrNull(row, 'customer'), lookup: textOrNull(row, 'lookup'), deleted: row.deleted === true }]));
}

/**
 * Every entry of `groupId` stored again after sequence `after`, in the order they were, after the
 * group's own record and its member records: someone joined the group, and their desktop's next
 * pull must bring what was kept from it before — the group at its current key version and who
 * else holds it (the entries' signers), which no desktop sends again (test/integration/
 * taken-in-not-sent.test.ts; before, a desktop re-sending records it had taken in handed them on
 * by chance). Returns the vault's sequence after them. Bodies are unchanged (desktops that hold
 * them take them as agreed).
 */
export async function restampGroupEntries(tx: Transaction, vaultId: string, groupId: string, after: number): Promise<number> {
  const rows = await tx.query(
    `WITH moved AS (
       SELECT record_id, row_number() OVER (ORDER BY kind = 'entry', kind = 'member', seq) AS n FROM sync_records
       WHERE vault_id = $1 AND ((kind IN ('entry', 'member') AND body->>'group' = $2) OR (kind = 'group' AND record_id = $2))
     )
     UPDATE sync_records r SET seq = $3 + moved.n FROM moved WHERE r.vault_id = $1 AND r.record_id = moved.record_id RETURNING r.seq`,
    [vaultId, groupId, after],
  );
  return after + rows.length;
}

export type { StoredRecord } from './records-in-line';

/** Stores an object's newest record (a newer revision replaces the older, at a new sequence number); on a RecordsInLine, it waits there. */
export async function putRecord(tx: Transaction, vaultId: string, record: StoredRecord, pushedBy: string): Promise<void> {
  if (tx instanceof RecordsInLine) return tx.put(vaultId, record, pushedBy);
  const p = new Params();
  const sql = recordsPutSql(p, p.add(vaultId), [{ record, pushedBy }]);
  await tx.query(sql, p.values);
}

/**
 * Planner settings for one page read only (walkingIndex undoes them after it): no scan of the whole table, no
 * bitmap read and no sort, so a page's `ORDER BY <the index's columns> LIMIT n` can only be a walk
 * of that index from the cursor. Without them, on a table never analyzed (PGlite never analyzes
 * by itself; a fresh PostgreSQL before autovacuum's first pass) the planner takes `vault_id = $1`
 * for 0.5% of the rows, and reads "those few" by a bitmap and a sort: every row of the vault
 * past the cursor, for each page (docs/SYNC.md "Speed" step 9). They are not disabled outright:
 * were no index walk possible the planner would still find a plan, only a costly one.
 */
export const INDEX_WALK = "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)";

/**
 * `read` under INDEX_WALK, inside the caller's transaction (a pull's or a snapshot page's one
 * consistent read, db.ts readConsistently). The settings go with the savepoint once read: the
 * reply's other statements are planned as everywhere else (a generic plan made under them would be
 * kept by the connection).
 */
async function walkingIndex<T>(tx: DatabaseTransaction, read: () => Promise<T>): Promise<T> {
  await tx.exec(`SAVEPOINT index_walk; ${INDEX_WALK}`);
  const rows = await read();
  await tx.exec('ROLLBACK TO SAVEPOINT index_walk; RELEASE SAVEPOINT index_walk');
  return rows;
}

/**
 * Records stored after `since`, in sequence order: `limit` at most, and no more than about
 * `maxBytes` of bodies (at least one); the body as text (parsed by the caller).
 */
export async function recordsAfter(tx: DatabaseTransaction, vaultId: string, since: number, limit: number, maxBytes: number): Promise<Array<{ readonly seq: number; readonly body: string; readonly scope: string | null; readonly bodyDigest: string | null }>> {
  const rows = await walkingIndex(tx, () => tx.query(PULL_PAGE_SQL, [vaultId, since, limit, maxBytes]));
  return rows.map((row) => ({ seq: int(row, 'seq'), body: text(row, 'body'), scope: textOrNull(row, 'scope'), bodyDigest: textOrNull(row, 'body_digest') }));
}

/**
 * A pull's page: a walk of sync_records_by_seq (vault_id, seq) from `since`, ordered by exactly its
 * columns, so no plan reads the vault's other records (test/server/snapshot-plans.test.ts). The
 * first row is always kept (n = 1), however large. Exported for that test's EXPLAIN only.
 */
export const PULL_PAGE_SQL = `SELECT seq, body, scope, body_digest FROM (
       SELECT seq, body, scope, body_digest, sum(octet_length(body)) OVER (ORDER BY seq) AS running, row_number() OVER (ORDER BY seq) AS n FROM (
         SELECT seq, body::text AS body, scope, body_digest FROM sync_records WHERE vault_id = $1 AND seq > $2 ORDER BY vault_id, seq LIMIT $3
       ) stored
     ) page WHERE running <= $4 OR n = 1 ORDER BY seq`;

/** Whether any entry stored in this vault is in `groupId` (live only: `liveOnly`), leaving out the ids in `except`. */
export async function groupHoldsEntries(db: Queryable, vaultId: string, groupId: string, liveOnly: boolean, except: readonly string[]): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM sync_records WHERE vault_id = $1 AND kind = 'entry' AND body->>'group' = $2 AND ($3::boolean IS FALSE OR body->'deletedAt' = 'null'::jsonb)
       AND NOT (record_id = ANY($4::text[])) LIMIT 1`,
    [vaultId, groupId, liveOnly, [...except]],
  );
  return rows.length > 0;
}

/**
 * Live entries of `groupId` sealed under a key version below `keyVersion` and stored after sequence
 * `after` (the pusher's pulls had not reached them), but those named in `except` (the push writes
 * them): what a push moving the group to `keyVersion` would leave under a key it replaces (review
 * R1). Each with the revision held, as a push's conflicts name them.
 */
export async function entriesLeftUnder(db: Queryable, vaultId: string, groupId: string, keyVersion: number, after: number, except: readonly string[]): Promise<Array<{ readonly id: string; readonly revision: number }>> {
  const rows = await db.query(
    `SELECT record_id, revision FROM sync_records WHERE vault_id = $1 AND kind = 'entry' AND body->>'group' = $2 AND seq > $3
       AND body->'deletedAt' = 'null'::jsonb AND (body->>'keyVersion')::int < $4 AND NOT (record_id = ANY($5::text[])) ORDER BY seq`,
    [vaultId, groupId, after, keyVersion, [...except]],
  );
  return rows.map((row) => ({ id: text(row, 'record_id'), revision: int(row, 'revision') }));
}

/**
 * The records of these groups stored after sequence `after` (the pusher's pulls had not reached
 * them), each with the revision held: what a push moving a group to a new key version would write
 * over unseen (a rename made elsewhere, reverted by a rotation made on a desktop behind it).
 */
export async function groupsStoredAfter(db: Queryable, vaultId: string, groupIds: readonly string[], after: number): Promise<Array<{ readonly id: string; readonly revision: number }>> {
  if (groupIds.length === 0) return [];
  const rows = await db.query(
    "SELECT record_id, revision FROM sync_records WHERE vault_id = $1 AND kind = 'group' AND record_id = ANY($2::text[]) AND seq > $3 ORDER BY seq",
    [vaultId, [...groupIds], after],
  );
  return rows.map((row) => ({ id: text(row, 'record_id'), revision: int(row, 'revision') }));
}

/**
 * Of the member records `memberIds`, those stored after sequence `after` (only revokes, for `revokesOnly`): a grant or
 * re-wrap pushed by a desktop that never pulled a revoke of the membership, or a revoke pushed by one that never pulled
 * the membership's newest record (records.ts membersRevokedUnseen, membersChangedUnseen).
 */
export async function membersStoredAfter(db: Queryable, vaultId: string, memberIds: readonly string[], after: number, revokesOnly: boolean): Promise<Array<{ readonly id: string; readonly revision: number }>> {
  if (memberIds.length === 0) return [];
  const rows = await db.query(
    `SELECT record_id, revision FROM sync_records WHERE vault_id = $1 AND kind = 'member' AND record_id = ANY($2::text[]) AND seq > $3${revokesOnly ? " AND body->>'revoked' = 'true'" : ''} ORDER BY seq`,
    [vaultId, [...memberIds], after],
  );
  return rows.map((row) => ({ id: text(row, 'record_id'), revision: int(row, 'revision') }));
}

/** A stored record as a snapshot hands it on: its body as stored (checked when pushed), and what the pull filter reads of it. */
export interface SnapshotRow {
  readonly seq: number;
  readonly kind: 'customer' | 'entry' | 'signing_key' | 'event' | 'user' | 'group' | 'member' | 'role' | 'settings' | 'mfa_policy';
  readonly group: string | null;
  readonly user: string | null;
  /** The signed batch a customer or entry record names (format 2), else null. */
  readonly batch: string | null;
  /** The body's JSON text as PostgreSQL sent it (UTF-8). */
  readonly body: Buffer;
  /** A v3 event's scope tag and body digest (schema 22), else null. */
  readonly scope: string | null;
  readonly bodyDigest: string | null;
}

/** Column `at` of a raw row (snapshotPageSql's order) as text; `name` only for the error. */
function rawText(row: RawRow, at: number, name: string): string {
  const value = row[at];
  if (value === null || value === undefined) throw new CrewvaultError('INTERNAL', `snapshotAfter: no ${name}`);
  return value.toString('utf8');
}

function rawTextOrNull(row: RawRow, at: number): string | null {
  const value = row[at];
  return value === null || value === undefined ? null : value.toString('utf8');
}

const STORED_KINDS: ReadonlySet<string> = new Set<SnapshotRow['kind']>(['customer', 'entry', 'signing_key', 'event', 'user', 'group', 'member', 'role', 'settings', 'mfa_policy']);
const isStoredKind = (kind: string): kind is SnapshotRow['kind'] => STORED_KINDS.has(kind);

/**
 * A page of a vault's snapshot: records stored after `after` and at or below `upTo`, of audit
 * events only (`events`) or of everything else, in sequence order; `limit` at most and about
 * `maxBytes` of bodies (at least one). Each object has one row (its newest record), so this is the
 * vault's state.
 */
export async function snapshotAfter(tx: DatabaseTransaction, vaultId: string, after: number, upTo: number, events: boolean, limit: number, maxBytes: number): Promise<SnapshotRow[]> {
  // The page's bodies as bytes (db.ts queryBytes): handed on into the reply without being decoded and encoded again.
  const rows = await walkingIndex(tx, () => tx.queryBytes(events ? SNAPSHOT_PAGE_SQL.events : SNAPSHOT_PAGE_SQL.state, [vaultId, after, upTo, limit, maxBytes]));
  return rows.map((row) => {
    const kind = rawText(row, 1, 'kind');
    if (!isStoredKind(kind)) throw new CrewvaultError('INTERNAL', `snapshotAfter: a stored record of kind ${kind}`);
    const seq = Number(rawText(row, 0, 'seq'));
    if (!Number.isSafeInteger(seq)) throw new CrewvaultError('INTERNAL', 'snapshotAfter: a sequence that is not an integer');
    const body = row[5];
    if (body === null || body === undefined) throw new CrewvaultError('INTERNAL', 'snapshotAfter: a stored record without a body');
    return { seq, kind, group: rawTextOrNull(row, 2), user: rawTextOrNull(row, 3), batch: rawTextOrNull(row, 4), body, scope: rawTextOrNull(row, 6), bodyDigest: rawTextOrNull(row, 7) };
  });
}

/**
 * A snapshot page's read, one text for each part (schema 24): `WHERE vault_id = $1 AND seq > after`
 * on the part's partial index (vault_id, seq), ordered by exactly its columns and limited, and run
 * under INDEX_WALK (below), so the one plan left is a walk of the index from the cursor: page n
 * costs what page 1 does (test/server/snapshot-plans.test.ts). The part is in the text, not a
 * parameter: a partial index is only used when the planner can prove the query stays inside it
 * (a `(kind = 'event') = $4` filter it could not). Each stored body is turned into text once (the
 * LIMIT keeps the inner query from being folded into the outer, which would do it twice).
 * Exported for that test's EXPLAIN only.
 */
const snapshotPageSql = (part: string): string => `SELECT seq, kind, grp, usr, batch, body, scope, body_digest FROM (
       SELECT seq, kind, scope, body_digest, grp, usr, batch, body, sum(octet_length(body)) OVER (ORDER BY seq) AS running, row_number() OVER (ORDER BY seq) AS n FROM (
         SELECT seq, kind, scope, body_digest, CASE WHEN kind IN ('entry', 'member') THEN body->>'group' END AS grp, CASE WHEN kind = 'member' THEN body->>'user' END AS usr,
           CASE WHEN kind IN ('customer', 'entry') THEN body->>'batch' END AS batch, body::text AS body
         FROM sync_records WHERE vault_id = $1 AND ${part} AND seq > $2 AND seq <= $3 ORDER BY vault_id, seq LIMIT $4
       ) stored
     ) page WHERE running <= $5 OR n = 1 ORDER BY seq`;
export const SNAPSHOT_PAGE_SQL = { events: snapshotPageSql("kind = 'event'"), state: snapshotPageSql("kind <> 'event'") } as const;

/**
 * How many audit events a vault's snapshot holds (sequence at or below `upTo`), and of them how
 * many at or below `after`: what a desktop taking the history in shows as "n of m". Events are
 * handed to every person of the vault (a v3 one of a group they do not hold redacted, still one
 * event), so the count is the same for everyone. One read a history run, not a page.
 */
export async function snapshotEventCount(db: Queryable, vaultId: string, after: number, upTo: number): Promise<{ readonly total: number; readonly taken: number }> {
  const rows = await db.query(
    "SELECT count(*) AS total, count(*) FILTER (WHERE seq <= $2) AS taken FROM sync_records WHERE vault_id = $1 AND seq <= $3 AND kind = 'event'",
    [vaultId, after, upTo],
  );
  const row = rows[0];
  return row === undefined ? { total: 0, taken: 0 } : { total: int(row, 'total'), taken: int(row, 'taken') };
}

/** The stored body (text) of a role, settings or MFA policy record by its id (task 15), or undefined. */
export async function vaultObjectBody(db: Queryable, vaultId: string, recordId: string): Promise<string | undefined> {
  const [row] = await db.query("SELECT body::text AS body FROM sync_records WHERE vault_id = $1 AND record_id = $2 AND kind IN ('role', 'settings', 'mfa_policy')", [vaultId, recordId]);
  return row === undefined ? undefined : text(row, 'body');
}
