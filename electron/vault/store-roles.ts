/** Shared: custom roles (schema 3) — a name and the permissions it grants. */
import { CrewvaultError } from '../../shared/errors';
import { foldRoleName, isBuiltInRole, isPermission, ROLE_PERMISSIONS, ROLES, type Permission, type Role } from '../../shared/policy';
import type { ReadDb, WriteDb } from './db';
import { newUid } from './ids';

export interface CustomRole {
  readonly name: string;
  readonly permissions: readonly Permission[];
}

/** A stored custom role with its revision (what a redefinition names as its base, #13). */
export interface StoredRole extends CustomRole {
  readonly revision: number;
}

function parse(row: { name: string; permissions: string; revision: number }): StoredRole {
  const list = JSON.parse(row.permissions) as unknown;
  const permissions = Array.isArray(list) ? list.filter((p): p is Permission => typeof p === 'string' && isPermission(p)) : [];
  return { name: row.name, permissions, revision: row.revision };
}

export function listCustomRoles(db: ReadDb): StoredRole[] {
  return db.prepare<[], { name: string; permissions: string; revision: number }>('SELECT name, permissions, revision FROM roles ORDER BY name').all().map(parse);
}

export function getCustomRole(db: ReadDb, name: string): StoredRole | undefined {
  const row = db.prepare<[string], { name: string; permissions: string; revision: number }>('SELECT name, permissions, revision FROM roles WHERE name = ?').get(name);
  return row ? parse(row) : undefined;
}

/** Shared (schema 10: a role has a global id and a revision, which redefining it moves on). */
export function putCustomRole(db: WriteDb, role: CustomRole, now: number): void {
  db.prepare('INSERT INTO roles (uid, name, permissions, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions')
    .run(newUid(now), role.name, JSON.stringify(role.permissions), now);
}

/**
 * A custom role as a record from another desktop set it (task 15, replica-vault-objects.ts): its
 * permissions, and the revision it is at there (which the trigger's own step is overwritten with,
 * so this file's next redefinition goes one past it). Made if this file lacks it.
 */
export function putSyncedRole(db: WriteDb, role: CustomRole, revision: number, now: number): void {
  putCustomRole(db, role, now);
  db.prepare('UPDATE roles SET revision = ? WHERE name = ?').run(revision, role.name);
}

/**
 * A custom role's name respelt as the team holds it (replica-vault-objects.ts takeRole: two desktops
 * defined one name spelt two ways, and the other's reached the server first), with everyone holding
 * it: a record names a role exactly as it is stored (review round twelve (a)), so this file's own
 * records of them then carry the team's spelling.
 */
export function renameCustomRole(db: WriteDb, from: string, to: string): void {
  db.prepare('UPDATE roles SET name = ? WHERE name = ?').run(to, from);
  db.prepare('UPDATE users SET role = ? WHERE role = ?').run(to, from);
}

/** What `role` allows: the built-in table's row, a custom role's list, or nothing (unknown). */
export function rolePermissions(db: ReadDb, role: string): readonly Permission[] {
  if (isBuiltInRole(role)) return ROLE_PERMISSIONS[role];
  return getCustomRole(db, role)?.permissions ?? [];
}

// One reading of a role name for the vault, the records and the team server (shared/policy.ts).
export { foldRoleName } from '../../shared/policy';

/**
 * The role `typed` names, as the vault stores it: "Technician", "Team lead" and "team-lead"
 * name the built-in roles (case, spaces, "_" and "-" aside), custom roles likewise. Unknown:
 * INVALID_INPUT listing the roles there are.
 */
export function resolveRoleName(db: ReadDb, typed: string): Role {
  const wanted = foldRoleName(typed.trim());
  const names = [...ROLES, ...listCustomRoles(db).map((r) => r.name)];
  const found = names.find((name) => foldRoleName(name) === wanted);
  if (!found) throw new CrewvaultError('INVALID_INPUT', `Unknown role "${typed.trim().slice(0, 64)}": one of ${names.join(', ')}.`);
  return found;
}

