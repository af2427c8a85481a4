/** Custom roles (schema 3): a name and the permissions it grants. */
import { isBuiltInRole, isPermission, ROLE_PERMISSIONS, type Permission } from '../../shared/policy';
import type { ReadDb, WriteDb } from './db';

export interface CustomRole {
  readonly name: string;
  readonly permissions: readonly Permission[];
}

function parse(row: { name: string; permissions: string }): CustomRole {
  const list = JSON.parse(row.permissions) as unknown;
  const permissions = Array.isArray(list) ? list.filter((p): p is Permission => typeof p === 'string' && isPermission(p)) : [];
  return { name: row.name, permissions };
}

export function listCustomRoles(db: ReadDb): CustomRole[] {
  return db.prepare<[], { name: string; permissions: string }>('SELECT name, permissions FROM roles ORDER BY name').all().map(parse);
}

export function getCustomRole(db: ReadDb, name: string): CustomRole | undefined {
  const row = db.prepare<[string], { name: string; permissions: string }>('SELECT name, permissions FROM roles WHERE name = ?').get(name);
  return row ? parse(row) : undefined;
}

export function putCustomRole(db: WriteDb, role: CustomRole, now: number): void {
  db.prepare('INSERT INTO roles (name, permissions, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions')
    .run(role.name, JSON.stringify(role.permissions), now);
}

/** What `role` allows: the built-in table's row, a custom role's list, or nothing (unknown). */
export function rolePermissions(db: ReadDb, role: string): readonly Permission[] {
  if (isBuiltInRole(role)) return ROLE_PERMISSIONS[role];
  return getCustomRole(db, role)?.permissions ?? [];
}
