/**
 * SQL for who signs in a team vault (schema 17): its vault users' signing keys in the order
 * stored, and its devices' first pushing accounts and chain heads. Only this file reads or writes
 * `sync_signing_keys` and `sync_devices` (each device's vault user since schema 21); the rules are server/sync/verify.ts's.
 * Must never: replace a key once stored, or move a device to another vault user.
 */
import { CrewvaultError } from '../../shared/errors';
import { rowsByKeys } from './by-keys';
import { text, type Queryable, type Row, type Transaction } from './db';
import { snapshotSql } from './signers-snapshot';
import { RecordsInLine } from './records-in-line';

export interface StoredSigningKey {
  readonly keyId: string;
  readonly vaultUser: string;
  /** Raw Ed25519 public key, base64url as its record carried it. */
  readonly publicKey: string;
  readonly certifiedBy: string | null;
  readonly certificate: string | null;
}

export interface StoredDevice {
  readonly device: string;
  /** The vault user whose signed events the device's are (its first event's actor; null: a device from before schema 21 with no actor). */
  readonly vaultUser: string | null;
  /** The account that first pushed its events (kept for the record; no check reads it). */
  readonly accountId: string | null;
  /** The link its next event must carry (base64url). */
  readonly head: string;
}

/** The snapshot (signers-snapshot.ts): $1 the vault, $2 the devices. */
const SNAPSHOT_SQL = snapshotSql('$1', '$2::text[]');

/** The snapshot now (holdVerified compares it, in the vault's lock, with the one verifyReads read). */
export async function signersSnapshot(db: Queryable, vaultId: string, devices: readonly string[]): Promise<string> {
  const [row] = await db.query(`SELECT ${SNAPSHOT_SQL} AS snapshot`, [vaultId, [...devices]]);
  return row === undefined ? '' : text(row, 'snapshot');
}

/**
 * holdSnapshotPuttingBatches's statement: whether the snapshot is still $5 and none of the push's
 * batches is held with another body (a batch id the server holds comes again identical:
 * verify-batches.ts; each id a probe of the table's primary key, as by-keys.ts), and only then the
 * batches written. It writes batches, so on a RecordsInLine what waits there is written before it.
 * Exported for test/server/key-read-plans.test.ts.
 */
export const HOLD_SNAPSHOT_PUTTING_BATCHES_SQL = `WITH now AS (
       SELECT ${SNAPSHOT_SQL} = $5 AND NOT EXISTS (
         SELECT 1 FROM unnest($3::text[], $4::text[]) AS b(id, body)
         CROSS JOIN LATERAL (SELECT s.body FROM sync_batches s WHERE s.vault_id = $1 AND s.batch_id = b.id LIMIT 1) AS s WHERE s.body <> b.body
       ) AS held
     ),
     put AS (
       INSERT INTO sync_batches (vault_id, batch_id, body) SELECT $1, b.id, b.body FROM unnest($3::text[], $4::text[]) AS b(id, body)
       WHERE (SELECT held FROM now)
       ON CONFLICT (vault_id, batch_id) DO NOTHING
       RETURNING 1
     )
     SELECT (SELECT held FROM now) AS held`;

/**
 * In the vault's lock: whether the snapshot is still `expected` (and no batch of the push is held
 * with another body) and, only when it is, the push's batches stored (each once), in one statement;
 * false stores nothing (the caller checks the push again, and refuses a batch held otherwise). A
 * data-modifying WITH runs whether or not the query reads it, and sees the same snapshot.
 * On a RecordsInLine that read this snapshot as standing with the batch's others and knows nothing
 * since that could have moved it (records-in-line.ts checkSnapshots), no statement: the batches wait
 * with its writes.
 */
export async function holdSnapshotPuttingBatches(
  tx: Transaction, vaultId: string, devices: readonly string[], expected: string, batches: ReadonlyArray<{ readonly id: string; readonly body: string }>,
): Promise<boolean> {
  if (tx instanceof RecordsInLine && tx.heldPuttingBatches(vaultId, { devices, expected, batches })) return true;
  const [row] = await tx.query(
    HOLD_SNAPSHOT_PUTTING_BATCHES_SQL,
    [vaultId, [...devices], batches.map((b) => b.id), batches.map((b) => b.body), expected],
  );
  return row?.['held'] === true;
}

/** What verifying a push reads, all of it from one statement (verifyReads). */
export interface VerifyReads {
  readonly snapshot: string;
  /** The pushing account as a vault user (disabled or not); undefined when it is none. */
  readonly person: { readonly vaultUser: string; readonly role: string | null } | undefined;
  /** The vault's row; undefined before its move. */
  readonly vault: { readonly createdBy: string; readonly createdAt: number } | undefined;
  /** Whether an enabled owner is bound to an account (membership.ts ownerBound). */
  readonly ownerBound: boolean;
  readonly keys: StoredSigningKey[];
  readonly roles: Map<string, string | null>;
  readonly disabled: Set<string>;
  readonly devices: Map<string, StoredDevice>;
  /** Which of the event ids asked for the vault holds already. */
  readonly storedEvents: Set<string>;
  /** The batches asked for that the vault holds, by id: their bodies. */
  readonly batches: Map<string, string>;
}

/** A json column as the driver hands it: pg and PGlite parse json, a text fallback is parsed here. */
function json(row: Row, column: string): unknown {
  const value = row[column];
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** A json array column of arrays (json_agg of json_build_array, '[]' when none). */
function tuples(row: Row, column: string): unknown[][] {
  const value = json(row, column);
  if (!Array.isArray(value) || !value.every((t): t is unknown[] => Array.isArray(t))) throw new CrewvaultError('INTERNAL', `column ${column} is not a list of rows`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new CrewvaultError('INTERNAL', `${what} is not text`);
  return value;
}

function strOrNull(value: unknown, what: string): string | null {
  return value === null ? null : str(value, what);
}

function flag(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new CrewvaultError('INTERNAL', `${what} is not a boolean`);
  return value;
}

/**
 * verifyReads's statement for a push of this shape (a list that is empty is not asked for: its column
 * is '[]' and its parameter is not sent, so each shape is one prepared text). Parameters: $1 the vault,
 * $2 the devices, $3 the account, then the events' ids and the batches' ids, each when asked.
 * Exported for test/server/key-read-plans.test.ts.
 */
export function verifyReadsSql(shape: { readonly devices: boolean; readonly events: boolean; readonly batches: boolean }): string {
  const eventsParam = 4;
  const batchesParam = shape.events ? 5 : 4;
  return `SELECT ${SNAPSHOT_SQL} AS snapshot,
       (SELECT json_build_array(vault_user, role) FROM sync_people WHERE vault_id = $1 AND account_id = $3) AS person,
       (SELECT json_build_array(created_by, created_at::text) FROM sync_vaults WHERE vault_id = $1) AS vault,
       EXISTS (SELECT 1 FROM sync_people WHERE vault_id = $1 AND account_id IS NOT NULL AND role = 'owner' AND NOT disabled) AS owner_bound,
       (SELECT coalesce(json_agg(json_build_array(key_id, vault_user, public_key, certified_by, certificate) ORDER BY n), '[]'::json) FROM sync_signing_keys WHERE vault_id = $1) AS keys,
       (SELECT coalesce(json_agg(json_build_array(vault_user, role, disabled)), '[]'::json) FROM sync_people WHERE vault_id = $1) AS people,
       ${shape.devices ? `(SELECT coalesce(json_agg(json_build_array(d.device, d.vault_user, d.account_id, d.head)), '[]'::json)
         FROM ${rowsByKeys({ table: 'sync_devices', key: 'device', columns: 'device, vault_user, account_id, head', vault: '$1', keys: '$2::text[]', as: 'd' })})` : "'[]'::json"} AS devices,
       ${shape.events ? `(SELECT coalesce(json_agg(json_build_array(e.record_id)), '[]'::json)
         FROM ${rowsByKeys({ table: 'sync_records', key: 'record_id', columns: 'record_id', vault: '$1', keys: `$${eventsParam}::text[]`, as: 'e' })})` : "'[]'::json"} AS events,
       ${shape.batches ? `(SELECT coalesce(json_agg(json_build_array(b.batch_id, b.body)), '[]'::json)
         FROM ${rowsByKeys({ table: 'sync_batches', key: 'batch_id', columns: 'batch_id, body', vault: '$1', keys: `$${batchesParam}::text[]`, as: 'b' })})` : "'[]'::json"} AS batches`;
}

/**
 * Everything verifying a push reads (server/sync/verify.ts), in one statement and so from one
 * snapshot of the database: the signers' snapshot, the pushing account's person, the vault's row and
 * whether an owner is bound, every signing key (in the order stored), every person's role, these
 * devices, which of these events are stored, and these batches. One round trip where there were
 * seven, each on a pooled connection of its own (the largest part of a push's statements).
 */
export async function verifyReads(db: Queryable, vaultId: string, accountId: string, devices: readonly string[], eventIds: readonly string[], batchIds: readonly string[]): Promise<VerifyReads> {
  const [row] = await db.query(
    verifyReadsSql({ devices: devices.length > 0, events: eventIds.length > 0, batches: batchIds.length > 0 }),
    [vaultId, [...devices], accountId, ...(eventIds.length > 0 ? [[...eventIds]] : []), ...(batchIds.length > 0 ? [[...batchIds]] : [])],
  );
  if (row === undefined) throw new CrewvaultError('INTERNAL', 'a one-row read returned none');
  const person = json(row, 'person');
  const vault = json(row, 'vault');
  const people = tuples(row, 'people');
  const createdAt = Array.isArray(vault) ? Number(str(vault[1], 'sync_vaults.created_at')) : undefined;
  if (createdAt !== undefined && !Number.isSafeInteger(createdAt)) throw new CrewvaultError('INTERNAL', 'sync_vaults.created_at is not an integer');
  return {
    snapshot: text(row, 'snapshot'),
    person: Array.isArray(person) ? { vaultUser: str(person[0], 'sync_people.vault_user'), role: strOrNull(person[1], 'sync_people.role') } : undefined,
    vault: Array.isArray(vault) && createdAt !== undefined ? { createdBy: str(vault[0], 'sync_vaults.created_by'), createdAt } : undefined,
    ownerBound: flag(row['owner_bound'], 'owner_bound'),
    keys: tuples(row, 'keys').map(([keyId, vaultUser, publicKey, certifiedBy, certificate]) => ({
      keyId: str(keyId, 'key_id'), vaultUser: str(vaultUser, 'vault_user'), publicKey: str(publicKey, 'public_key'),
      certifiedBy: strOrNull(certifiedBy, 'certified_by'), certificate: strOrNull(certificate, 'certificate'),
    })),
    roles: new Map(people.map(([vaultUser, role]) => [str(vaultUser, 'vault_user'), strOrNull(role, 'role')])),
    disabled: new Set(people.filter(([, , disabled]) => flag(disabled, 'disabled')).map(([vaultUser]) => str(vaultUser, 'vault_user'))),
    devices: new Map(tuples(row, 'devices').map(([device, vaultUser, account, head]) => [str(device, 'device'), {
      device: str(device, 'device'), vaultUser: strOrNull(vaultUser, 'vault_user'), accountId: strOrNull(account, 'account_id'), head: str(head, 'head'),
    }])),
    storedEvents: new Set(tuples(row, 'events').map(([id]) => str(id, 'record_id'))),
    batches: new Map(tuples(row, 'batches').map(([id, body]) => [str(id, 'batch_id'), str(body, 'body')])),
  };
}

/** Keys new to the vault, in the push's order (one already stored is kept as it was). */
export async function putSigningKeys(tx: Transaction, vaultId: string, keys: readonly StoredSigningKey[]): Promise<void> {
  for (const k of keys) {
    await tx.query(
      'INSERT INTO sync_signing_keys (vault_id, key_id, vault_user, public_key, certified_by, certificate) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (vault_id, key_id) DO NOTHING',
      [vaultId, k.keyId, k.vaultUser, k.publicKey, k.certifiedBy, k.certificate],
    );
  }
}

/** Devices' new heads (a new device bound to the vault user who signed its first event). */
export async function putDevices(tx: Transaction, vaultId: string, devices: readonly StoredDevice[]): Promise<void> {
  for (const d of devices) {
    await tx.query(
      `INSERT INTO sync_devices (vault_id, device, vault_user, account_id, head) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (vault_id, device) DO UPDATE SET head = excluded.head, vault_user = coalesce(sync_devices.vault_user, excluded.vault_user)
       WHERE sync_devices.vault_user IS NULL OR sync_devices.vault_user = excluded.vault_user`,
      [vaultId, d.device, d.vaultUser, d.accountId, d.head],
    );
  }
}
