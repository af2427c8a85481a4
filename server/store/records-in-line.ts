/**
 * A transaction of a batch of pushes (server/sync/push-batch.ts) whose writes wait and go together:
 * its records (store/sync.ts putRecord) and the signed batches its pushes store
 * (store/signers.ts holdSnapshotPuttingBatches). They are written in the statement that moves the
 * vault's sequence at the batch's end (sync.ts setVaultSeq), or in one statement before any other
 * that could see them. Every statement not declared apart from records (apartFromRecords: one that
 * neither reads nor writes records or batches) writes what waits first, so each read, check or
 * savepoint sees exactly what it would have seen had each write been made at its push's turn; a
 * statement added later is safe by default. A record named again while waiting is written first
 * (one statement may not write a row twice).
 *
 * The signature checks' snapshots (verify.ts holdVerified: what a push was verified by before the
 * lock still stands) of the batch's pushes are read together once the vault's row is held
 * (checkSnapshots, push-batch.ts): a push whose snapshot stood then, with no push before it in the
 * batch that could have moved it (push-batch.ts forgets them all before any such push), is not read
 * for again at its turn. A batch of one-entry pushes took three round trips a push under the
 * vault's row (its groups, its check, its record); with this and push-batch.ts's reads kept for the
 * batch, none past the batch's own.
 *
 * Only this file and store/sync.ts write `sync_records`.
 * Must never: let a statement not declared apart from records run before what waits, write a
 * record twice, lose one, or take a snapshot as standing after a push that could have moved it.
 */
import { CrewvaultError } from '../../shared/errors';
import type { Row, Transaction } from './db';
import { batchesPutSql } from './batches';
import { rowsByKeys } from './by-keys';
import { snapshotSql } from './signers-snapshot';

/** One statement's parameters, numbered as they are added. */
export class Params {
  readonly values: unknown[] = [];

  /** Adds `value`; returns its placeholder ($n). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export interface StoredRecord {
  readonly id: string;
  readonly kind: string;
  readonly revision: number;
  readonly seq: number;
  readonly body: string;
  /** A v3 event's scope tag and body digest (schema 22), handed to members who do not hold its group in place of the body. */
  readonly scope?: string | undefined;
  readonly bodyDigest?: string | undefined;
}

export interface WaitingRecord {
  readonly record: StoredRecord;
  readonly pushedBy: string;
}

/**
 * What a push's signature check relied on (verify.ts): its snapshot as read then, the devices it
 * names, and the signed batches it stores (none of which may be held here with another body: a
 * batch id the server holds must come again identical, verify-batches.ts).
 */
export interface SnapshotCheck {
  readonly devices: readonly string[];
  readonly expected: string;
  readonly batches: readonly StoredBatch[];
}

export interface StoredBatch {
  readonly id: string;
  readonly body: string;
}

/** A snapshot as checkSnapshots sends it and reads it back: its devices as JSON, and what it was read as. */
const snapshotKey = (devices: string, expected: string): string => `${devices}\n${expected}`;
const devicesJson = (c: SnapshotCheck): string => JSON.stringify(c.devices);
const keyOf = (c: SnapshotCheck): string => snapshotKey(devicesJson(c), c.expected);

/** Records of one vault, each named once, as one statement's rows (`vault` its placeholder in `p`). */
export function recordsPutSql(p: Params, vault: string, rows: readonly WaitingRecord[]): string {
  const column = (f: (r: WaitingRecord) => unknown, type: string): string => `${p.add(rows.map(f))}::${type}[]`;
  return `INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body, scope, body_digest)
     SELECT ${vault}, r.id, r.kind, r.revision, r.seq, r.pushed_by, r.body::jsonb, r.scope, r.body_digest
     FROM unnest(${column((r) => r.record.id, 'text')}, ${column((r) => r.record.kind, 'text')}, ${column((r) => r.record.revision, 'bigint')}, ${column((r) => r.record.seq, 'bigint')},
       ${column((r) => r.pushedBy, 'text')}, ${column((r) => r.record.body, 'text')}, ${column((r) => r.record.scope ?? null, 'text')}, ${column((r) => r.record.bodyDigest ?? null, 'text')})
       AS r(id, kind, revision, seq, pushed_by, body, scope, body_digest)
     ON CONFLICT (vault_id, record_id) DO UPDATE SET revision = excluded.revision, seq = excluded.seq, pushed_by = excluded.pushed_by, body = excluded.body,
       scope = excluded.scope, body_digest = excluded.body_digest`;
}

/** Statements that neither read nor write records or batches: a RecordsInLine lets them run before what waits. */
const APART_FROM_RECORDS = new Set<string>();

/**
 * Declares `sql` as neither reading nor writing sync_records or sync_batches, nor setting off
 * anything that does (test/server/records-in-line.test.ts checks each declared text names no such
 * table, and that the database holds no trigger, rule or view); returns it.
 */
export function apartFromRecords(sql: string): string {
  APART_FROM_RECORDS.add(sql);
  return sql;
}

/** The statements declared apart from records (for that test). */
export function statementsApartFromRecords(): readonly string[] {
  return [...APART_FROM_RECORDS];
}

/**
 * checkSnapshots's statement, one row: `snapshots`, each distinct check's snapshot now against what
 * it was read as ($1 the vault; $2 each one's devices as a JSON array, $3 what it was read as), and
 * `batches`, the bodies held of the batch ids the checks name ($4), each a probe of the table's
 * primary key (by-keys.ts). It reads signers, people, devices and batches, and writes nothing.
 * Exported for test/server/key-read-plans.test.ts.
 */
export const SNAPSHOTS_STAND_SQL = `SELECT
       (SELECT coalesce(json_agg(json_build_array(c.devices, c.expected, ${snapshotSql('$1', 'ARRAY(SELECT json_array_elements_text(c.devices::json))')} = c.expected)), '[]'::json)
        FROM unnest($2::text[], $3::text[]) AS c(devices, expected)) AS snapshots,
       (SELECT coalesce(json_agg(json_build_array(b.batch_id, b.body)), '[]'::json)
        FROM ${rowsByKeys({ table: 'sync_batches', key: 'batch_id', columns: 'batch_id, body', vault: '$1', keys: '$4::text[]', as: 'b' })}) AS batches`;

/** A json column of arrays (node-postgres and PGlite parse json), as rows; anything else as none. */
function jsonRows(value: unknown): unknown[][] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.filter((r): r is unknown[] => Array.isArray(r)) : [];
}

export class RecordsInLine implements Transaction {
  private readonly tx: Transaction;
  private records: WaitingRecord[] = [];
  private readonly named = new Set<string>();
  private batches: StoredBatch[] = [];
  private vaultId: string | undefined;
  /** Snapshots read as standing once the vault's row was held, and not moved since as far as push-batch.ts knows (checkSnapshots, forgetSnapshots). */
  private standing = new Set<string>();
  /** The bodies held of the batch ids the checks named, when the snapshots were read. */
  private readonly heldBatches = new Map<string, string>();
  private standingVault: string | undefined;

  constructor(tx: Transaction) {
    this.tx = tx;
  }

  async query(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    if (!APART_FROM_RECORDS.has(sql)) await this.write();
    return this.tx.query(sql, params);
  }

  async exec(script: string): Promise<void> {
    await this.write();
    return this.tx.exec(script);
  }

  /** Keeps `record` to be written with the rest (what waits is written first when it is named already or of another vault). */
  async put(vaultId: string, record: StoredRecord, pushedBy: string): Promise<void> {
    if (this.named.has(record.id) || !this.sameVault(vaultId)) await this.write();
    this.vaultId = vaultId;
    this.named.add(record.id);
    this.records.push({ record, pushedBy });
  }

  /**
   * Reads whether each of `checks` stands now, in one statement (push-batch.ts, once the vault's row
   * is held and before any push of the batch ran): those that do are kept as standing.
   */
  async checkSnapshots(vaultId: string, checks: readonly SnapshotCheck[]): Promise<void> {
    this.forgetSnapshots();
    const distinct = [...new Map(checks.map((c) => [keyOf(c), c])).values()];
    if (distinct.length === 0) return;
    const ids = [...new Set(checks.flatMap((c) => c.batches.map((b) => b.id)))];
    const [row] = await this.query(SNAPSHOTS_STAND_SQL, [vaultId, distinct.map(devicesJson), distinct.map((c) => c.expected), ids]);
    this.standingVault = vaultId;
    for (const [devices, expected, held] of jsonRows(row?.['snapshots'])) if (held === true) this.standing.add(snapshotKey(String(devices), String(expected)));
    for (const [id, body] of jsonRows(row?.['batches'])) this.heldBatches.set(String(id), String(body));
  }

  /** Takes no snapshot as standing any more (a push that could move one is about to run). */
  forgetSnapshots(): void {
    this.standing.clear();
    this.heldBatches.clear();
    this.standingVault = undefined;
  }

  /**
   * When `check` was read as standing and nothing has moved it since, and none of its batches waits
   * here with another body (an earlier push of the batch stored that id): keeps its batches to be
   * written with the rest and says true (the check is made); false: the caller reads it now (and,
   * the waiting written first, finds what does not stand).
   */
  heldPuttingBatches(vaultId: string, check: SnapshotCheck): boolean {
    if (this.standingVault !== vaultId || !this.standing.has(keyOf(check)) || !this.sameVault(vaultId)) return false;
    // Each of its batch ids held (when the snapshots were read) or waiting must hold the same body.
    const waiting = new Map(this.batches.map((b) => [b.id, b.body]));
    if (check.batches.some((b) => (this.heldBatches.get(b.id) ?? waiting.get(b.id) ?? b.body) !== b.body)) return false;
    this.vaultId = vaultId;
    this.batches.push(...check.batches);
    return true;
  }

  /** What waits for `vaultId`, as WITH items on `p` (`vault` its placeholder), for a statement that ends the batch; nothing is left waiting. */
  takeWaiting(vaultId: string, p: Params, vault: string): string[] {
    if (!this.sameVault(vaultId)) throw new CrewvaultError('INTERNAL', 'writes of another vault wait');
    const [records, batches] = [this.records, this.batches];
    this.records = [];
    this.batches = [];
    this.named.clear();
    const items: string[] = [];
    // Each batch once, as putBatches stores it.
    if (batches.length > 0) items.push(`put_batches AS (${batchesPutSql(vault, p.add(batches.map((b) => b.id)), p.add(batches.map((b) => b.body)))} RETURNING 1)`);
    if (records.length > 0) items.push(`put_records AS (${recordsPutSql(p, vault, records)} RETURNING 1)`);
    return items;
  }

  /** Writes what still waits (a batch whose sequence did not move may leave batches): push-batch.ts calls it last. */
  async written(): Promise<void> {
    await this.write();
  }

  private sameVault(vaultId: string): boolean {
    return this.vaultId === undefined || this.vaultId === vaultId || (this.records.length === 0 && this.batches.length === 0);
  }

  /** Writes what waits, in one statement. */
  private async write(): Promise<void> {
    if (this.vaultId === undefined || (this.records.length === 0 && this.batches.length === 0)) return;
    const p = new Params();
    const items = this.takeWaiting(this.vaultId, p, p.add(this.vaultId));
    await this.tx.query(`WITH ${items.join(',\n     ')} SELECT 1`, p.values);
  }
}
