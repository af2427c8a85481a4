/**
 * SQL for who holds a group's secret key and what each custom role allows, as the server's codes-only
 * rules read them (server/codes/group-setting.ts; review 13a holes 1 and 5). Reads only: what the
 * rules refuse is refused by their caller, in the push's transaction.
 * Must never: open or return a wrapped key (a membership's wrapped pair is only asked whether its
 * secret half is there), or write.
 */
import { createHash } from 'node:crypto';
import { isPermission, type Permission } from '../../shared/policy';
import { vaultObjectId } from '../../shared/sync/records';
import { int, text, textOrNull, type Queryable } from './db';

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/** A member holding a group's secret key at the version they are wrapped at, which is the group's current one. */
export interface SecretHolder {
  readonly group: string;
  readonly vaultUser: string;
  readonly keyVersion: number;
}

/** Whether a stored wrapped pair ([list key, secret key], server/sync/membership.ts) holds the secret half: SQL over `m.wrapped`. */
const HOLDS_SECRET = "CASE WHEN m.wrapped LIKE '[%' THEN (m.wrapped::jsonb ->> 1) IS NOT NULL ELSE false END";

/**
 * Members of these groups (every group of the vault when `groupIds` is undefined) who hold the
 * secret key at the group's current key version, read in the caller's transaction.
 */
export async function secretHoldersAtCurrent(db: Queryable, vaultId: string, groupIds: readonly string[] | undefined): Promise<SecretHolder[]> {
  if (groupIds !== undefined && groupIds.length === 0) return [];
  const rows = await db.query(
    `SELECT m.group_id, m.vault_user, m.key_version FROM sync_members m
     JOIN sync_groups g ON g.vault_id = m.vault_id AND g.group_id = m.group_id AND NOT g.deleted AND g.key_version = m.key_version
     WHERE m.vault_id = $1 AND ($2::text[] IS NULL OR m.group_id = ANY($2::text[])) AND ${HOLDS_SECRET}`,
    [vaultId, groupIds === undefined ? null : [...groupIds]],
  );
  return rows.map((row) => ({ group: text(row, 'group_id'), vaultUser: text(row, 'vault_user'), keyVersion: int(row, 'key_version') }));
}

/** Which of these (group, vault user, version) memberships hold no secret key now while still wrapped at that very version. */
export async function secretsGoneAtSameVersion(db: Queryable, vaultId: string, before: readonly SecretHolder[]): Promise<SecretHolder[]> {
  if (before.length === 0) return [];
  const rows = await db.query(
    `SELECT m.group_id, m.vault_user, m.key_version FROM unnest($2::text[], $3::text[], $4::int[]) AS b(group_id, vault_user, key_version)
     JOIN sync_members m ON m.vault_id = $1 AND m.group_id = b.group_id AND m.vault_user = b.vault_user AND m.key_version = b.key_version
     JOIN sync_groups g ON g.vault_id = m.vault_id AND g.group_id = m.group_id AND NOT g.deleted AND g.key_version = m.key_version
     WHERE NOT (${HOLDS_SECRET})`,
    [vaultId, before.map((h) => h.group), before.map((h) => h.vaultUser), before.map((h) => h.keyVersion)],
  );
  return rows.map((row) => ({ group: text(row, 'group_id'), vaultUser: text(row, 'vault_user'), keyVersion: int(row, 'key_version') }));
}

/**
 * Every custom role the server holds a record of in the vault, with its permissions as stored: a
 * record counts under the name its id is made of, as server/store/membership.ts rolePermissionsOf reads one.
 */
export async function customRolesOf(db: Queryable, vaultId: string): Promise<Map<string, readonly Permission[]>> {
  const rows = await db.query("SELECT record_id, body->>'name' AS name, body->>'permissions' AS permissions FROM sync_records WHERE vault_id = $1 AND kind = 'role'", [vaultId]);
  const roles = new Map<string, readonly Permission[]>();
  for (const row of rows) {
    const name = textOrNull(row, 'name');
    const stored = textOrNull(row, 'permissions');
    if (name === null || vaultObjectId(vaultId, 'role', sha256Hex, name) !== text(row, 'record_id')) continue;
    const list: unknown = stored === null ? [] : JSON.parse(stored);
    roles.set(name, Array.isArray(list) ? list.filter((p): p is Permission => typeof p === 'string' && isPermission(p)) : []);
  }
  return roles;
}
