/**
 * Who holds an access group's keys, as the vault file stores them: for tests that check which
 * roles a rotation or a grant wrapped the group's secret key for (names only, never a key).
 */
import Database from 'better-sqlite3';

/** Group `id`'s current key version, the members wrapped at it, and everyone holding a secret key of it. */
export function secretHolders(vaultPath: string, id: number): { version: number; members: string[]; secret: string[] } {
  const db = new Database(vaultPath, { readonly: true });
  try {
    const { key_version: version } = db.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(id) as { key_version: number };
    const rows = db.prepare('SELECT u.name AS user, gk.key_version AS v, gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? ORDER BY u.name').all(id) as Array<{ user: string; v: number; secret: number }>;
    return { version, members: rows.filter((r) => r.v === version).map((r) => r.user), secret: rows.filter((r) => r.secret === 1).map((r) => r.user) };
  } finally {
    db.close();
  }
}
