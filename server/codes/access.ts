/**
 * Who may take a server-computed code or hand a key to the server, from the membership the server
 * holds (server/store/membership.ts memberAccess): the caller's vault user, a current member of the
 * group (or an owner or admin, who hold every group), with their role's permissions. The server
 * knows the built-in roles' permissions (shared/policy.ts); a custom role's list lives only in the
 * vault, so a custom role is given nothing here (its members ask a key holder's desktop).
 * Must never: answer for a revoked member, a disabled person or a deleted group (memberAccess does not).
 */
import { isBuiltInRole, ROLE_PERMISSIONS, type Permission } from '../../shared/policy';
import type { Queryable } from '../store/db';
import { memberAccess } from '../store/membership';

export interface CodeAccess {
  readonly vaultUser: string;
  readonly permissions: readonly Permission[];
  /** The group's current key version. */
  readonly keyVersion: number;
}

export async function codeAccess(db: Queryable, vault: string, account: string, group: string): Promise<CodeAccess | undefined> {
  const access = await memberAccess(db, vault, account, group);
  if (access === undefined) return undefined;
  return { vaultUser: access.vaultUser, permissions: isBuiltInRole(access.role) ? ROLE_PERMISSIONS[access.role] : [], keyVersion: access.keyVersion };
}
