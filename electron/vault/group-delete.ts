/**
 * Deleting an access group (issue #11), for TeamService: only an empty group (no live entry),
 * never the vault's default group nor its last one, by whoever may manage that group (the
 * `groups.manage` check renameGroup makes: its leads, or a role that manages every group). In
 * one write transaction the group becomes a tombstone that keeps nothing secret (its wrapped
 * keys deleted, its sealed name and name index wiped: store-groups.tombstoneGroup), its sealed
 * list pages go, and `group.delete` is audited with the name it had. What the team server holds of it (its name, setting
 * and wraps) is kept apart until the deletion is stored (replica-group-undelete.ts keepBeforeDelete): its lead sends it,
 * or, unmade before, gets the group back. Must never delete a group that still holds an entry, nor leave a key or the
 * sealed name in the tombstone.
 */
import { CrewvaultError } from '../../shared/errors';
import { openJson } from './crypto';
import { contexts } from './keys';
import { countEntriesByGroup } from './store-entries';
import { getGroupRow, listGroups, tombstoneGroup } from './store-groups';
import { getSetting } from './store-meta';
import { deletePagesOfGroup } from './store-pages';
import type { SessionCore } from './team';
import { requireBase } from './base-revision';
import { keepBeforeDelete } from './replica-group-undelete';

export interface DeletedGroup {
  readonly deleted: string;
}

export async function deleteEmptyGroup(core: SessionCore, groupId: number, baseRevision: number): Promise<DeletedGroup> {
  const deleted = await core.write((w) => {
    core.require(w, 'groups.manage', groupId);
    const row = getGroupRow(w, groupId);
    if (!row) throw new CrewvaultError('NOT_FOUND', 'No such access group.');
    // A delete decided on a stale view (renamed or keyed again since) is refused (#13).
    requireBase('group', row.revision, baseRevision);
    const name = openJson(core.ring.directoryKey, row.sealed_name, contexts.groupName(row));
    if (typeof name !== 'string') throw new CrewvaultError('VAULT_TAMPERED', 'A group name failed its integrity check.');
    const entries = countEntriesByGroup(w).get(groupId) ?? 0;
    if (entries > 0) {
      const what = entries === 1 ? '1 entry' : `${entries} entries`;
      throw new CrewvaultError('INVALID_INPUT', `${name} still holds ${what}: move ${entries === 1 ? 'it' : 'them'} to another group first.`);
    }
    if (groupId === Number(getSetting(w, 'default_group_id'))) {
      throw new CrewvaultError('FORBIDDEN', `${name} is the vault's default group (new people join it): it cannot be deleted.`);
    }
    if (listGroups(w).length <= 1) throw new CrewvaultError('FORBIDDEN', `${name} is the vault's last group: it cannot be deleted.`);
    // What the team server holds of it, kept until the deletion is stored: its person unmade before, it comes back (replica-group-undelete.ts).
    keepBeforeDelete(w, row, core.user().id, core.now());
    tombstoneGroup(w, groupId, core.now());
    deletePagesOfGroup(w, groupId);
    core.audit(w, { action: 'group.delete', group_id: groupId }, name);
    return name;
  });
  // Committed: this session forgets the key too (other sessions lose it at their next sign-in).
  core.ring.dropGroup(groupId);
  return { deleted };
}
