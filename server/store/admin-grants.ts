/**
 * SQL for the permissions owners grant admins (schema 13's `admin_grants`). Only this file
 * reads or writes that table. A row means "granted"; taking a grant back deletes it (the audit
 * keeps who granted and revoked what). Nothing here is a secret.
 */
import type { AdminPermission } from '../../shared/api/server-contract';
import { text, type Queryable, type Transaction } from './db';

export async function holdsGrant(db: Queryable, userId: string, permission: AdminPermission): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM admin_grants WHERE user_id = $1 AND permission = $2', [userId, permission]);
  return rows.length > 0;
}

/**
 * `holdsGrant` inside a transaction that acts on the grant, under a share lock on its row until
 * that transaction ends: taking the grant back (a delete) waits for the act to commit, or, having
 * committed first, leaves the act nothing to find.
 */
export async function holdGrant(tx: Transaction, userId: string, permission: AdminPermission): Promise<boolean> {
  const rows = await tx.query('SELECT 1 FROM admin_grants WHERE user_id = $1 AND permission = $2 FOR SHARE', [userId, permission]);
  return rows.length > 0;
}

/** Everyone holding `permission` by a grant (owners hold it by role and have no row). */
export async function grantees(db: Queryable, permission: AdminPermission): Promise<Set<string>> {
  const rows = await db.query('SELECT user_id FROM admin_grants WHERE permission = $1', [permission]);
  return new Set(rows.map((row) => text(row, 'user_id')));
}

/** Grants it; false when it was held already (nothing changes). */
export async function insertGrant(db: Queryable, grant: { userId: string; permission: AdminPermission; grantedBy: string; now: number }): Promise<boolean> {
  const rows = await db.query(
    'INSERT INTO admin_grants (user_id, permission, granted_by, granted_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, permission) DO NOTHING RETURNING user_id',
    [grant.userId, grant.permission, grant.grantedBy, grant.now],
  );
  return rows.length === 1;
}

/** Takes it back; false when it was not held. */
export async function deleteGrant(db: Queryable, userId: string, permission: AdminPermission): Promise<boolean> {
  const rows = await db.query('DELETE FROM admin_grants WHERE user_id = $1 AND permission = $2 RETURNING user_id', [userId, permission]);
  return rows.length === 1;
}

