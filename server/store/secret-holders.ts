/**
 * SQL for who holds a group's secret key and what each custom role allows, as the server's codes-only
 * rules read them (server/codes/group-setting.ts; review 13a holes 1 and 5, finding D6). Reads only: what the
 * rules refuse is refused by their caller, in the push's transaction.
 * Must never: open or return a wrapped key (a membership's wrapped pair is only asked whether its
 * secret half is there), or write.
 */
import { createHash } from 'node:crypto';
import { isPermission, type Permission } from '../../shared/policy';
import { vaultObjectId } from '../../shared/sync/records';
import { text, textOrNull, type Queryable } from './db';

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/** A current member of a server-codes group who lacks its secret key now, having held it at the group's current key version or later. */
export interface SecretTaken {
  readonly group: string;
  readonly vaultUser: string;
}

/** Whether a stored wrapped pair ([list key, secret key], server/sync/membership.ts) holds the secret half: SQL over `m.wrapped`. */
const HOLDS_SECRET = "CASE WHEN m.wrapped LIKE '[%' THEN (m.wrapped::jsonb ->> 1) IS NOT NULL ELSE false END";

/**
 * Members of the vault's server-codes groups who hold the list key alone now while they held the
 * secret key at the group's current version or a later one (`sync_secret_key_held`, schema 30),
 * read in the caller's transaction: the state a push leaves, however many parts took the key.
 */
export async function secretsTakenAtCurrent(db: Queryable, vaultId: string): Promise<SecretTaken[]> {
  const rows = await db.query(
    `SELECT m.group_id, m.vault_user FROM sync_members m
     JOIN sync_groups g ON g.vault_id = m.vault_id AND g.group_id = m.group_id AND NOT g.deleted
     JOIN server_code_groups s ON s.vault_id = m.vault_id AND s.group_id = m.group_id
     JOIN sync_secret_key_held h ON h.vault_id = m.vault_id AND h.group_id = m.group_id AND h.vault_user = m.vault_user AND h.key_version >= g.key_version
     WHERE m.vault_id = $1 AND NOT (${HOLDS_SECRET})
     ORDER BY m.group_id, m.vault_user`,
    [vaultId],
  );
  return rows.map((row) => ({ group: text(row, 'group_id'), vaultUser: text(row, 'vault_user') }));
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
