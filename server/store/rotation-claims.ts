/**
 * SQL for a key change held for a moment (schema 32; docs/SYNC.md "A key change held off by
 * writes"): a rotation refused for entries (the group's record, a membership) stored after its desktop's pull
 * claims its group until `claim_until`, on the group's row; meanwhile another person's push writing
 * a live entry into it, its group record (a rename, a deletion) or a membership of it (but the claimant's own) is refused BUSY
 * (server/sync/records.ts). A claim counts only at the key version it was made at: the rotation
 * landing (or any other) ends it. It is read with the group (membership.ts groupsWithMembership),
 * so a push reads nothing more for it.
 * A claim ends, too, when its claimant may stop managing the group (endClaims from applyPeople; endClaimsOfRoles, their role redefined).
 * Must never: hold off the claimant's own writes, count a claim past its time, or past its claimant's right to the group.
 */
import type { Transaction } from './db';
import type { GroupWithMembership } from './membership';

/** How long a refused rotation holds its groups: a desktop's next round (a pull, then the push again) comes at once. */
export const ROTATION_CLAIM_MS = 30_000;

/** `vaultUser`'s key changes of `groupIds` (refused: the groups still at the version the server holds), held until `until`. */
export async function claimRotations(tx: Transaction, vaultId: string, groupIds: readonly string[], vaultUser: string, until: number): Promise<void> {
  if (groupIds.length === 0) return;
  await tx.query(
    'UPDATE sync_groups SET claim_user = $3, claim_version = key_version, claim_until = $4 WHERE vault_id = $1 AND group_id = ANY($2::text[])',
    [vaultId, [...groupIds], vaultUser, until],
  );
}

/**
 * `vaultUser`'s claims end (in `groupId` alone, when named): they stopped managing it (a role changed, disabled, revoked from
 * the group or no longer its lead). A claim is judged when made only: kept, a lead cut off still held others off until it ran out.
 */
export async function endClaims(tx: Transaction, vaultId: string, vaultUser: string, groupId?: string): Promise<void> {
  await tx.query(
    'UPDATE sync_groups SET claim_user = NULL, claim_version = NULL, claim_until = NULL WHERE vault_id = $1 AND claim_user = $2 AND ($3::text IS NULL OR group_id = $3)',
    [vaultId, vaultUser, groupId ?? null],
  );
}

/** The claims of every holder of these (custom) roles end: a role redefined may no longer manage groups (endClaims' reason). */
export async function endClaimsOfRoles(tx: Transaction, vaultId: string, roles: readonly string[]): Promise<void> {
  if (roles.length === 0) return;
  await tx.query(
    `UPDATE sync_groups SET claim_user = NULL, claim_version = NULL, claim_until = NULL
     WHERE vault_id = $1 AND claim_user IN (SELECT vault_user FROM sync_people WHERE vault_id = $1 AND role = ANY($2::text[]))`,
    [vaultId, [...roles]],
  );
}

/** Of `groups` (as groupsWithMembership read them), those someone other than `vaultUser` holds for a key change at `now`. */
export function claimedByOthers(groups: ReadonlyMap<string, GroupWithMembership>, vaultUser: string | null, now: number): string[] {
  return [...groups.values()].filter((g) => g.claim !== null && g.claim.user !== vaultUser && g.claim.until > now).map((g) => g.groupId);
}
