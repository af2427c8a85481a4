/**
 * The "server computes codes" setting of an access group, as its signed `group` record carries it
 * (`serverCodes`, schema 16; docs/SYNC.md "Server-computed codes"), applied in the push that brings
 * it (server/sync/records.ts, after who is who): the server, not a desktop's say-so, decides which
 * groups it takes sealed keys for and when it drops them.
 * - Only an owner or admin turns it on or off (a group new to the server too); a record without the
 *   field (a desktop from before it) leaves it as held.
 * - Turned off: every sealed key of the group is dropped in the same transaction, and audited.
 * - A push after which a group set so wraps its secret key for a role that needs it only to see
 *   codes (codes-only: group-keys.ts needsSecretKeyIn on the desktop) is refused: a member record
 *   granting it, the setting turned on without the rotation that re-wraps, a member made codes-only
 *   without re-wrapping. A member record carries the list key and the secret key as two fields, so
 *   the server tells them apart without opening either. A custom role's permissions live only in
 *   the vault: not judged here.
 * Must never: let anyone but an owner or admin change the setting, or store part of a push it refuses.
 */
import { CrewvaultError } from '../../shared/errors';
import { holdsSecretKeys, ROLE_PERMISSIONS, ROLES } from '../../shared/policy';
import type { PeopleRecord } from '../../shared/sync/records';
import { appendAuditBatch, type AuditEvent } from '../audit';
import type { ServerContext } from '../context';
import { deleteSealedCodesOfGroup, groupsWrappingSecretFor, serverCodeGroups, serverCodeGroupsOf, setServerCodeGroup } from '../store/codes';
import type { Transaction } from '../store/db';
import { holdsEveryGroup } from '../store/membership';

/** The built-in roles that would hold a group's secret key only to see codes (codes-only): not in a group whose codes the server computes. */
const CODES_ONLY_ROLES: readonly string[] = ROLES.filter((role) => {
  const permissions = ROLE_PERMISSIONS[role];
  return holdsSecretKeys(permissions) && !holdsSecretKeys(permissions.filter((p) => p !== 'otp.view'));
});

export async function applyServerCodesSetting(
  tx: Transaction, ctx: ServerContext, vaultId: string, pusher: { readonly role: string | null }, records: readonly PeopleRecord[], stale: ReadonlySet<string>, actorId: string, source: string,
): Promise<void> {
  const groups = records.flatMap((r) => (r.kind === 'group' && !stale.has(r.id) && r.serverCodes !== undefined ? [{ id: r.id, on: r.serverCodes }] : []));
  const held = await serverCodeGroups(tx, vaultId, groups.map((g) => g.id));
  const events: AuditEvent[] = [];
  for (const group of groups) {
    if (group.on === held.has(group.id)) continue;
    if (!holdsEveryGroup(pusher.role)) {
      throw new CrewvaultError('FORBIDDEN', 'Only an owner or admin turns "server computes codes" on or off for a group: nothing was stored.');
    }
    await setServerCodeGroup(tx, vaultId, group.id, group.on);
    if (!group.on) {
      const dropped = await deleteSealedCodesOfGroup(tx, vaultId, group.id);
      if (dropped > 0) events.push({ kind: 'codes.key-removed', actorId, source, detail: { vault: vaultId, group: group.id, keys: dropped } });
    }
  }
  // After this push: no group set so may wrap its secret key for a codes-only member, whether the
  // push granted it (a member record), turned the setting on (without a rotation that re-wraps), or
  // made a member codes-only (a user record) — each refused whole.
  const touched = new Set(records.flatMap((r) => (stale.has(r.id) ? [] : r.kind === 'group' ? [r.id] : r.kind === 'member' ? [r.group] : [])));
  if (records.some((r) => r.kind === 'user' && !stale.has(r.id))) for (const group of await serverCodeGroupsOf(tx, vaultId)) touched.add(group);
  const setOn = await serverCodeGroups(tx, vaultId, [...touched]);
  const wrapping = await groupsWrappingSecretFor(tx, vaultId, [...setOn], CODES_ONLY_ROLES);
  if (wrapping.size > 0) {
    throw new CrewvaultError('FORBIDDEN', 'This would give a group\'s secret key to someone whose role only sees codes, in a group whose codes the team server computes: nothing was stored.');
  }
  await appendAuditBatch(tx, ctx, events);
}
