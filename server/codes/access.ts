/**
 * Who may take a server-computed code or hand a key to the server, from the membership the server
 * holds (server/store/membership.ts memberAccess): the caller's vault user, a current member of the
 * group (or an owner or admin, who hold every group), with their role's permissions as the server
 * holds them (rolePermissionsOf: a built-in role's, or a custom role's from its record, review 13a
 * hole 1; none for a custom role it holds no record of).
 * Must never: answer for a revoked member, a disabled person or a deleted group (memberAccess does not).
 */
import type { Permission } from '../../shared/policy';
import type { Queryable } from '../store/db';
import { memberAccess, rolePermissionsOf } from '../store/membership';

export interface CodeAccess {
  readonly vaultUser: string;
  readonly permissions: readonly Permission[];
  /** The group's current key version. */
  readonly keyVersion: number;
}

export async function codeAccess(db: Queryable, vault: string, account: string, group: string): Promise<CodeAccess | undefined> {
  const access = await memberAccess(db, vault, account, group);
  if (access === undefined) return undefined;
  return { vaultUser: access.vaultUser, permissions: await rolePermissionsOf(db, vault, access.role), keyVersion: access.keyVersion };
}
