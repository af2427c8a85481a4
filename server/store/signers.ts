/**
 * SQL for who signs in a team vault (schema 17): its vault users' signing keys in the order
 * stored, and its devices' first pushing accounts and chain heads. Only this file reads or writes
 * `sync_signing_keys` and `sync_devices` (each device's vault user since schema 21); the rules are server/sync/verify.ts's.
 * Must never: replace a key once stored, or move a device to another vault user.
 */
import { text, textOrNull, type Queryable, type Transaction } from './db';

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

/** Every signing key of the vault, in the order the server stored them. */
export async function signingKeysOf(db: Queryable, vaultId: string): Promise<StoredSigningKey[]> {
  const rows = await db.query('SELECT key_id, vault_user, public_key, certified_by, certificate FROM sync_signing_keys WHERE vault_id = $1 ORDER BY n', [vaultId]);
  return rows.map((row) => ({ keyId: text(row, 'key_id'), vaultUser: text(row, 'vault_user'), publicKey: text(row, 'public_key'), certifiedBy: textOrNull(row, 'certified_by'), certificate: textOrNull(row, 'certificate') }));
}

/** The vault users' roles as the server holds them (null: bound, no role said yet), and which are disabled. */
export async function rolesOf(db: Queryable, vaultId: string): Promise<{ readonly roles: Map<string, string | null>; readonly disabled: Set<string> }> {
  const rows = await db.query('SELECT vault_user, role, disabled FROM sync_people WHERE vault_id = $1', [vaultId]);
  return {
    roles: new Map(rows.map((row) => [text(row, 'vault_user'), textOrNull(row, 'role')])),
    disabled: new Set(rows.filter((row) => row['disabled'] === true).map((row) => text(row, 'vault_user'))),
  };
}

/** These devices as the server holds them (absent: no event of theirs stored yet). */
export async function devicesOf(db: Queryable, vaultId: string, devices: readonly string[]): Promise<Map<string, StoredDevice>> {
  if (devices.length === 0) return new Map();
  const rows = await db.query('SELECT device, vault_user, account_id, head FROM sync_devices WHERE vault_id = $1 AND device = ANY($2::text[])', [vaultId, [...devices]]);
  return new Map(rows.map((row) => [text(row, 'device'), {
    device: text(row, 'device'), vaultUser: textOrNull(row, 'vault_user'), accountId: textOrNull(row, 'account_id'), head: text(row, 'head'),
  }]));
}

/** Which of these record ids the vault holds already (events are stored once). */
export async function storedIds(db: Queryable, vaultId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.query('SELECT record_id FROM sync_records WHERE vault_id = $1 AND record_id = ANY($2::text[])', [vaultId, [...ids]]);
  return new Set(rows.map((row) => text(row, 'record_id')));
}

/**
 * What a push's verification read that the vault's lock must still find, in one statement: the
 * newest key's place, the owners (whose certificates count), who is disabled (whose events are
 * refused) and these devices' accounts and heads.
 */
export async function signersSnapshot(db: Queryable, vaultId: string, devices: readonly string[]): Promise<string> {
  const [row] = await db.query(
    `SELECT concat_ws('|',
       (SELECT coalesce(max(n), 0)::text FROM sync_signing_keys WHERE vault_id = $1),
       (SELECT string_agg(vault_user || ':' || disabled::text, ',' ORDER BY vault_user) FROM sync_people WHERE vault_id = $1 AND role = 'owner'),
       (SELECT string_agg(vault_user, ',' ORDER BY vault_user) FROM sync_people WHERE vault_id = $1 AND disabled),
       (SELECT string_agg(device || ':' || coalesce(vault_user, '') || ':' || head, ',' ORDER BY device) FROM sync_devices WHERE vault_id = $1 AND device = ANY($2::text[]))
     ) AS snapshot`,
    [vaultId, [...devices]],
  );
  return row === undefined ? '' : text(row, 'snapshot');
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
