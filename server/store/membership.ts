/**
 * SQL for who is who in a team vault (schema 14): vault users and the accounts that act as
 * them, their roles, access groups with their current key version, and memberships with the
 * group key wrapped for each member (opaque bytes). Only this file reads or writes
 * `sync_people`, `sync_groups` and `sync_members`, and writes `sync_secret_key_held` (schema 30). The rules that decide who may change them are
 * in server/sync/membership.ts; `memberAccess` is the one question other parts of the server
 * (pulls, pushes, server-computed codes) ask. Must never: answer for a disabled person, a
 * deleted group, or an account bound to no vault user.
 */
import { createHash } from 'node:crypto';
import { isBuiltInRole, isPermission, ROLE_PERMISSIONS, type Permission } from '../../shared/policy';
import { vaultObjectId } from '../../shared/sync/records';
import { int, text, textOrNull, type Queryable, type Row, type Transaction } from './db';
import { apartFromRecords } from './records-in-line';

/** The roles that hold every group's key by their role (shared/policy ALL_GROUP_ROLES). */
const ALL_GROUP_ROLES: readonly string[] = ['owner', 'admin'];

/** A vault user as the server knows them. `role` null: bound to an account, but no owner's desktop has said their role yet. */
export interface VaultPerson {
  readonly vaultUser: string;
  readonly accountId: string | null;
  readonly role: string | null;
  readonly disabled: boolean;
}

export interface VaultGroup {
  readonly groupId: string;
  readonly keyVersion: number;
  readonly deleted: boolean;
}

export interface Membership {
  readonly groupId: string;
  readonly vaultUser: string;
  readonly keyVersion: number;
  readonly isLead: boolean;
  /** The group key wrapped for this member, base64url as the desktop sent it: opaque here. */
  readonly wrapped: string;
}

/** What an account may do in one group, as `memberAccess` answers it. */
export interface MemberAccess {
  /** The vault user (global id) this account acts as. */
  readonly vaultUser: string;
  /** Their role in the vault (owner, admin, a built-in or custom role's name). */
  readonly role: string;
  /** The group's current key version: records sealed under an older one are stale. */
  readonly keyVersion: number;
  /** Leads the group (owners and admins who hold it by role alone are not leads). */
  readonly isLead: boolean;
  /** Holds the group because their role holds every group, with no membership of their own. */
  readonly byRole: boolean;
}

function bool(row: Row, column: string): boolean {
  const value = row[column];
  if (typeof value !== 'boolean') throw new Error(`column ${column} is not a boolean`);
  return value;
}

function personOf(row: Row): VaultPerson {
  return { vaultUser: text(row, 'vault_user'), accountId: textOrNull(row, 'account_id'), role: textOrNull(row, 'role'), disabled: bool(row, 'disabled') };
}

/** The vault user `accountId` acts as in this vault (disabled or not); undefined when none. */
export async function personOfAccount(db: Queryable, vaultId: string, accountId: string): Promise<VaultPerson | undefined> {
  const [row] = await db.query('SELECT vault_user, account_id, role, disabled FROM sync_people WHERE vault_id = $1 AND account_id = $2', [vaultId, accountId]);
  return row === undefined ? undefined : personOf(row);
}

export async function getPerson(db: Queryable, vaultId: string, vaultUser: string): Promise<VaultPerson | undefined> {
  const [row] = await db.query('SELECT vault_user, account_id, role, disabled FROM sync_people WHERE vault_id = $1 AND vault_user = $2', [vaultId, vaultUser]);
  return row === undefined ? undefined : personOf(row);
}

/** Creates or replaces a vault user's row. The account moves with it: whoever held it before is unbound (one account, one vault user). */
export async function putPerson(tx: Transaction, vaultId: string, person: VaultPerson): Promise<void> {
  if (person.accountId !== null) {
    await tx.query('UPDATE sync_people SET account_id = NULL WHERE vault_id = $1 AND account_id = $2 AND vault_user <> $3', [vaultId, person.accountId, person.vaultUser]);
  }
  await tx.query(
    `INSERT INTO sync_people (vault_id, vault_user, account_id, role, disabled) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (vault_id, vault_user) DO UPDATE SET account_id = excluded.account_id, role = excluded.role, disabled = excluded.disabled`,
    [vaultId, person.vaultUser, person.accountId, person.role, person.disabled],
  );
}

export async function getGroup(db: Queryable, vaultId: string, groupId: string): Promise<VaultGroup | undefined> {
  const [row] = await db.query('SELECT group_id, key_version, deleted FROM sync_groups WHERE vault_id = $1 AND group_id = $2', [vaultId, groupId]);
  return row === undefined ? undefined : { groupId: text(row, 'group_id'), keyVersion: int(row, 'key_version'), deleted: bool(row, 'deleted') };
}

/**
 * Creates a group or moves it on (a new key version, or deleted). A deleted group keeps its
 * memberships as they stood when it went, as who held it then (every read of who holds a group
 * leaves a deleted one out): its members are handed its entries' deletes and the records that moved
 * them out, so their desktops take the deletion on those signed records, not on the server's word
 * that the group was empty (hostile review of C7: server/sync/membership.ts pullFilter, left-reach.ts).
 */
export async function putGroup(tx: Transaction, vaultId: string, group: VaultGroup): Promise<void> {
  await tx.query(
    `INSERT INTO sync_groups (vault_id, group_id, key_version, deleted) VALUES ($1, $2, $3, $4)
     ON CONFLICT (vault_id, group_id) DO UPDATE SET key_version = excluded.key_version, deleted = excluded.deleted`,
    [vaultId, group.groupId, group.keyVersion, group.deleted],
  );
}

export async function getMembership(db: Queryable, vaultId: string, groupId: string, vaultUser: string): Promise<Membership | undefined> {
  const [row] = await db.query('SELECT group_id, vault_user, key_version, is_lead, wrapped FROM sync_members WHERE vault_id = $1 AND group_id = $2 AND vault_user = $3', [vaultId, groupId, vaultUser]);
  return row === undefined ? undefined : { groupId: text(row, 'group_id'), vaultUser: text(row, 'vault_user'), keyVersion: int(row, 'key_version'), isLead: bool(row, 'is_lead'), wrapped: text(row, 'wrapped') };
}

/**
 * `joinedSeq`: a membership a rotation in this push cut off and wraps again keeps the sequence it
 * was made at (dropMembershipsBelow's answer): the member held the group throughout.
 */
export async function putMembership(tx: Transaction, vaultId: string, member: Membership, joinedSeq?: number): Promise<void> {
  await tx.query(
    // joined_seq (schema 25): the vault's sequence when the membership was made, never moved after: an entry that left the group before is not told them.
    `INSERT INTO sync_members (vault_id, group_id, vault_user, key_version, is_lead, wrapped, joined_seq) VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7::bigint, (SELECT seq FROM sync_vaults WHERE vault_id = $1)))
     ON CONFLICT (vault_id, group_id, vault_user) DO UPDATE SET key_version = excluded.key_version, is_lead = excluded.is_lead, wrapped = excluded.wrapped`,
    [vaultId, member.groupId, member.vaultUser, member.keyVersion, member.isLead, member.wrapped, joinedSeq ?? null],
  );
  // Schema 30 (finding D6): the highest version at which they held the group's secret key, for a later push that takes it to be
  // judged by (server/codes/group-setting.ts), in however many parts it comes. Only asked whether the pair's secret half is there.
  await tx.query(
    `INSERT INTO sync_secret_key_held (vault_id, group_id, vault_user, key_version) SELECT $1, $2, $3, $4::int
     WHERE CASE WHEN $5::text LIKE '[%' THEN ($5::text::jsonb ->> 1) IS NOT NULL ELSE false END
     ON CONFLICT (vault_id, group_id, vault_user) DO UPDATE SET key_version = GREATEST(sync_secret_key_held.key_version, excluded.key_version)`,
    [vaultId, member.groupId, member.vaultUser, member.keyVersion, member.wrapped],
  );
}

/**
 * Memberships a push made (not re-wraps a rotation carried over) date from the push's last stored
 * sequence, `seq`: an entry the same push moved out of the group was never in the new member's
 * reach, so its move is not told them (server/store/left-reach.ts, whose notes of this push sit
 * at or below `seq`).
 */
export async function datePushedJoins(tx: Transaction, vaultId: string, joins: ReadonlyArray<{ readonly groupId: string; readonly vaultUser: string }>, seq: number): Promise<void> {
  for (const j of joins) {
    await tx.query('UPDATE sync_members SET joined_seq = $4 WHERE vault_id = $1 AND group_id = $2 AND vault_user = $3', [vaultId, j.groupId, j.vaultUser, seq]);
  }
}

/** Ends a membership at once (a revoke): the member's next pull and push of the group are refused or empty. */
export async function dropMembership(tx: Transaction, vaultId: string, groupId: string, vaultUser: string): Promise<void> {
  await tx.query('DELETE FROM sync_members WHERE vault_id = $1 AND group_id = $2 AND vault_user = $3', [vaultId, groupId, vaultUser]);
}

/**
 * What `accountId` may do in group `groupId` of vault `vaultId`, now: undefined unless the account
 * acts as a vault user who is not disabled, has a role, and either holds a membership of the
 * live group or has a role that holds every group (owner, admin: the desktop wraps every group
 * for them). `keyVersion` is the group's current one.
 * Read in the caller's transaction (`tx`) to decide a push or a code in the same snapshot as its writes.
 */
export async function memberAccess(db: Queryable, vaultId: string, accountId: string, groupId: string): Promise<MemberAccess | undefined> {
  const [row] = await db.query(
    `SELECT p.vault_user, p.role, g.key_version, m.is_lead, m.vault_user IS NOT NULL AS member
     FROM sync_people p
     JOIN sync_groups g ON g.vault_id = p.vault_id AND g.group_id = $3 AND NOT g.deleted
     LEFT JOIN sync_members m ON m.vault_id = p.vault_id AND m.group_id = g.group_id AND m.vault_user = p.vault_user
     WHERE p.vault_id = $1 AND p.account_id = $2 AND NOT p.disabled AND p.role IS NOT NULL`,
    [vaultId, accountId, groupId],
  );
  if (row === undefined) return undefined;
  const role = text(row, 'role');
  const member = bool(row, 'member');
  if (!member && !ALL_GROUP_ROLES.includes(role)) return undefined;
  return { vaultUser: text(row, 'vault_user'), role, keyVersion: int(row, 'key_version'), isLead: member && bool(row, 'is_lead'), byRole: !member };
}

/** Whether a role holds every group's key by itself (owner, admin). */
export function holdsEveryGroup(role: string | null): boolean {
  return role !== null && ALL_GROUP_ROLES.includes(role);
}

/**
 * These groups as the server holds them (live or deleted; absent: unknown here), each with whether
 * `vaultUser` holds a membership of it (false for a deleted one, as groupsOf leaves those out): one
 * read for a push's entries (server/sync/membership.ts checkEntries).
 */
export async function groupsWithMembership(db: Queryable, vaultId: string, vaultUser: string | null, groupIds: readonly string[]): Promise<Map<string, GroupWithMembership>> {
  if (groupIds.length === 0) return new Map();
  const rows = await db.query(GROUPS_WITH_MEMBERSHIP_SQL, [vaultId, [...new Set(groupIds)], vaultUser]);
  return new Map(rows.map((row) => {
    const claimUser = textOrNull(row, 'claim_user');
    const claim = claimUser === null ? null : { user: claimUser, until: int(row, 'claim_until') };
    return [text(row, 'group_id'), { groupId: text(row, 'group_id'), keyVersion: int(row, 'key_version'), deleted: bool(row, 'deleted'), member: bool(row, 'member'), claim }];
  }));
}

/** A group with whether the vault user asked about is a member, and the key change someone holds it for (rotation-claims.ts), at its current version. */
export type GroupWithMembership = VaultGroup & { readonly member: boolean; readonly claim: { readonly user: string; readonly until: number } | null };

/** groupsWithMembership's read: groups and memberships only (a push batch's records wait past it: store/records-in-line.ts). */
const GROUPS_WITH_MEMBERSHIP_SQL = apartFromRecords(`SELECT g.group_id, g.key_version, g.deleted,
            NOT g.deleted AND EXISTS (SELECT 1 FROM sync_members m WHERE m.vault_id = g.vault_id AND m.group_id = g.group_id AND m.vault_user = $3) AS member,
            CASE WHEN g.claim_version = g.key_version THEN g.claim_user END AS claim_user, g.claim_until
     FROM sync_groups g WHERE g.vault_id = $1 AND g.group_id = ANY($2::text[])`);

/** groupsOf's read: memberships and groups only (as GROUPS_WITH_MEMBERSHIP_SQL). */
const GROUPS_OF_SQL = apartFromRecords('SELECT m.group_id FROM sync_members m JOIN sync_groups g ON g.vault_id = m.vault_id AND g.group_id = m.group_id AND NOT g.deleted WHERE m.vault_id = $1 AND m.vault_user = $2');

/** The deleted groups `vaultUser` held when they were deleted (putGroup keeps those memberships): whose entries' deletes they are handed. */
export async function deletedGroupsHeld(db: Queryable, vaultId: string, vaultUser: string): Promise<Set<string>> {
  const rows = await db.query(
    'SELECT m.group_id FROM sync_members m JOIN sync_groups g ON g.vault_id = m.vault_id AND g.group_id = m.group_id AND g.deleted WHERE m.vault_id = $1 AND m.vault_user = $2',
    [vaultId, vaultUser],
  );
  return new Set(rows.map((row) => text(row, 'group_id')));
}

/** The live groups `vaultUser` holds a membership of (owners and admins hold every group besides: holdsEveryGroup). */
export async function groupsOf(db: Queryable, vaultId: string, vaultUser: string): Promise<Set<string>> {
  const rows = await db.query(GROUPS_OF_SQL, [vaultId, vaultUser]);
  return new Set(rows.map((row) => text(row, 'group_id')));
}

/**
 * What a batch of pushes to one vault reads of its groups (server/sync/push-batch.ts), each read
 * once and kept while nothing changes who is who: the batch forgets it all after a push with
 * people records (user, group, member), the only writes that change groups or memberships. Each
 * answer is what groupsWithMembership or groupsOf would read at that push's turn.
 */
export class GroupReads {
  private readonly vaultId: string;
  /** By vault user and group: the group with that user's membership, or null for a group unknown here. */
  private readonly groups = new Map<string, GroupWithMembership | null>();
  private readonly held = new Map<string, Set<string>>();

  constructor(vaultId: string) {
    this.vaultId = vaultId;
  }

  /** groupsWithMembership, reading only the groups not read for `vaultUser` yet. */
  async withMembership(db: Queryable, vaultId: string, vaultUser: string | null, groupIds: readonly string[]): Promise<Map<string, GroupWithMembership>> {
    if (vaultId !== this.vaultId) return groupsWithMembership(db, vaultId, vaultUser, groupIds);
    const key = (id: string): string => JSON.stringify([vaultUser, id]);
    const missing = [...new Set(groupIds)].filter((id) => !this.groups.has(key(id)));
    if (missing.length > 0) {
      const read = await groupsWithMembership(db, vaultId, vaultUser, missing);
      for (const id of missing) this.groups.set(key(id), read.get(id) ?? null);
    }
    return new Map(groupIds.flatMap((id) => {
      const group = this.groups.get(key(id));
      return group === undefined || group === null ? [] : [[id, group] as const];
    }));
  }

  /** groupsOf, read once for each vault user. */
  async of(db: Queryable, vaultId: string, vaultUser: string): Promise<Set<string>> {
    if (vaultId !== this.vaultId) return groupsOf(db, vaultId, vaultUser);
    let held = this.held.get(vaultUser);
    if (held === undefined) {
      held = await groupsOf(db, vaultId, vaultUser);
      this.held.set(vaultUser, held);
    }
    return new Set(held);
  }

  /** Forgets every read (a push changed who is who). */
  clear(): void {
    this.groups.clear();
    this.held.clear();
  }
}

/** Every group the server knows in this vault, live or deleted. */
export async function groupsOfVault(db: Queryable, vaultId: string): Promise<Map<string, VaultGroup>> {
  const rows = await db.query('SELECT group_id, key_version, deleted FROM sync_groups WHERE vault_id = $1', [vaultId]);
  return new Map(rows.map((row) => [text(row, 'group_id'), { groupId: text(row, 'group_id'), keyVersion: int(row, 'key_version'), deleted: bool(row, 'deleted') }]));
}

/** The live groups `vaultUser` is a member of, and whether they lead each. */
export async function leadsOf(db: Queryable, vaultId: string, vaultUser: string): Promise<Map<string, boolean>> {
  const rows = await db.query(
    'SELECT m.group_id, m.is_lead FROM sync_members m JOIN sync_groups g ON g.vault_id = m.vault_id AND g.group_id = m.group_id AND NOT g.deleted WHERE m.vault_id = $1 AND m.vault_user = $2',
    [vaultId, vaultUser],
  );
  return new Map(rows.map((row) => [text(row, 'group_id'), bool(row, 'is_lead')]));
}

/**
 * A group moved to a new key version: everyone not wrapped at it (yet) is cut off at once. Answers
 * each cut-off member's joined_seq, for a wrap at the new version in the same push to keep
 * (putMembership): a rotation is no new membership, and an entry that left the group before it
 * is still told them (server/store/left-reach.ts).
 */
export async function dropMembershipsBelow(tx: Transaction, vaultId: string, groupId: string, keyVersion: number): Promise<Map<string, number>> {
  const rows = await tx.query('DELETE FROM sync_members WHERE vault_id = $1 AND group_id = $2 AND key_version < $3 RETURNING vault_user, joined_seq', [vaultId, groupId, keyVersion]);
  return new Map(rows.map((row) => [text(row, 'vault_user'), int(row, 'joined_seq')]));
}

/** Whether an owner of the vault is bound to an account (from then on, its creator is no owner by having moved it: only by a binding). */
export async function ownerBound(db: Queryable, vaultId: string): Promise<boolean> {
  const rows = await db.query("SELECT 1 FROM sync_people WHERE vault_id = $1 AND account_id IS NOT NULL AND role = 'owner' AND NOT disabled LIMIT 1", [vaultId]);
  return rows.length > 0;
}

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * What `role` allows in this vault, as the server holds it now (task 15): a built-in role's row
 * of shared/policy, or the permissions of the custom role record an owner's or admin's desktop
 * pushed under that name (read back by its id, vaultObjectId of the name); none for a role the
 * server holds no record of (a desktop from before task 15 never sent it) or for no role at all.
 * Read in the caller's transaction, so a role narrowed by an earlier push of the same batch counts.
 */
export async function rolePermissionsOf(db: Queryable, vaultId: string, role: string | null): Promise<readonly Permission[]> {
  if (role === null) return [];
  if (isBuiltInRole(role)) return ROLE_PERMISSIONS[role];
  const [row] = await db.query("SELECT body->>'name' AS name, body->>'permissions' AS permissions FROM sync_records WHERE vault_id = $1 AND record_id = $2 AND kind = 'role'", [vaultId, roleRecordId(vaultId, role)]);
  return storedRolePermissions(row, role);
}

/**
 * rolePermissionsOf for several custom roles (each a vault and a name that is not built in) in one
 * statement, in the order asked: a codes batch reads its askers' roles this way (store/codes.ts).
 */
export async function customRolePermissionsOf(db: Queryable, roles: ReadonlyArray<{ readonly vault: string; readonly role: string }>): Promise<Array<readonly Permission[]>> {
  if (roles.length === 0) return [];
  const rows = await db.query(
    // Each role a probe of the records' primary key, the kind checked outside it (as store/by-keys.ts reads: a join
    // or a condition beside the key inside the probe lets the planner read the vault's records through another index).
    `SELECT a.n::int AS n, r.name, r.permissions
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS a(vault_id, record_id, n)
     CROSS JOIN LATERAL (
       SELECT kind, body->>'name' AS name, body->>'permissions' AS permissions FROM sync_records WHERE vault_id = a.vault_id AND record_id = a.record_id LIMIT 1
     ) r
     WHERE r.kind = 'role'`,
    [roles.map((r) => r.vault), roles.map((r) => roleRecordId(r.vault, r.role))],
  );
  const found = new Map(rows.map((row) => [int(row, 'n') - 1, row]));
  return roles.map((r, i) => storedRolePermissions(found.get(i), r.role));
}

function roleRecordId(vaultId: string, role: string): string {
  return vaultObjectId(vaultId, 'role', sha256Hex, role);
}

/** A custom role's permissions from its stored record (none when there is no record of that very name). */
function storedRolePermissions(row: Row | undefined, role: string): readonly Permission[] {
  if (row === undefined || textOrNull(row, 'name') !== role) return [];
  const stored = textOrNull(row, 'permissions');
  const list: unknown = stored === null ? [] : JSON.parse(stored);
  return Array.isArray(list) ? list.filter((p): p is Permission => typeof p === 'string' && isPermission(p)) : [];
}

