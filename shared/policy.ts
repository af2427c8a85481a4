/**
 * Who may do what: roles and their permissions. One pure table answers both the UI ("show
 * the button?") and the router ("allow the call?"); the router's answer is the one that
 * counts, and the crypto backs it (a non-member lacks the group key).
 * Access groups decide which entries: a person acts on an entry only as a member of its
 * group (owners hold every group's key); a team lead manages only the groups they lead.
 */

/** The built-in roles. Owners and admins may define more (custom roles) from the same permissions. */
export const ROLES = ['owner', 'admin', 'team_lead', 'technician', 'codes_only', 'auditor'] as const;
export type BuiltInRole = (typeof ROLES)[number];
/** A role's name: a built-in one or a custom one. */
export type Role = string;

export const PERMISSIONS = [
  'entries.view',
  'passwords.reveal',
  'otp.view',
  'otp.reveal_secret',
  'entries.create',
  'entries.edit',
  'entries.delete',
  'groups.manage',
  'users.manage',
  'audit.read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const EVERYTHING: readonly Permission[] = PERMISSIONS;
const TECHNICIAN: readonly Permission[] = [
  'entries.view', 'passwords.reveal', 'otp.view', 'otp.reveal_secret', 'entries.create', 'entries.edit', 'entries.delete',
];

export const ROLE_PERMISSIONS: Readonly<Record<BuiltInRole, readonly Permission[]>> = {
  owner: EVERYTHING,
  admin: EVERYTHING,
  team_lead: [...TECHNICIAN, 'groups.manage'],
  technician: TECHNICIAN,
  // Teams ask for exactly this: share the code, never the seed (or the password).
  codes_only: ['entries.view', 'otp.view'],
  auditor: ['entries.view', 'audit.read'],
};

export function isBuiltInRole(value: string): value is BuiltInRole {
  return (ROLES as readonly string[]).includes(value);
}

/** A role name as people read it: no case, and "_", "-" and spaces alike ("Team lead", "team-lead" and team_lead are one name). */
export function foldRoleName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

/** The built-in role `name` reads as (folded), whatever its spelling; undefined for any other name. */
export function builtInRoleNamed(name: string): BuiltInRole | undefined {
  const folded = foldRoleName(name);
  return ROLES.find((r) => foldRoleName(r) === folded);
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/** Whether a built-in role has a permission (custom roles carry their own list). */
export function roleAllows(role: BuiltInRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** Who is asking, as far as the policy needs to know. */
export interface Actor {
  readonly role: Role;
  /** What the role allows: the built-in table's row, or a custom role's list. */
  readonly permissions: readonly Permission[];
  /** The groups whose key this person holds, and whether they lead each. */
  readonly groups: ReadonlyMap<number, { readonly lead: boolean }>;
}

/**
 * The permissions that need a group's secret key (password, notes, OTP key), so a role with
 * any of them is given it and a role with none (an auditor) holds only the list key: for them
 * the crypto, not only the app, keeps secrets shut. Codes-only is among them: a desktop
 * computes codes from the OTP key, so codes-only is enforced by the app, not the crypto
 * (SECURITY.md). Creating and editing seal secrets, so they need the key too.
 */
export const SECRET_KEY_PERMISSIONS: readonly Permission[] = ['passwords.reveal', 'otp.view', 'otp.reveal_secret', 'entries.create', 'entries.edit'];

/** Whether a role with `permissions` is given its groups' secret keys. */
export function holdsSecretKeys(permissions: readonly Permission[]): boolean {
  return permissions.some((p) => SECRET_KEY_PERMISSIONS.includes(p));
}

/**
 * Whether a role with `permissions` would hold a group's secret key only to see codes (codes-only):
 * its desktop steps an HOTP counter for it, and nothing else (replica-service.ts). Who holds the
 * secret key of a group whose codes the team server computes is mayHoldSecretKeyIn's to say.
 */
export function seesOnlyCodes(permissions: readonly Permission[]): boolean {
  return holdsSecretKeys(permissions) && !holdsSecretKeys(permissions.filter((p) => p !== 'otp.view'));
}

/**
 * Whether a role with `permissions` may hold the secret key of a group, `serverComputesCodes` its
 * "server computes codes" setting: the one rule for who is given it (the desktops' group-keys.ts
 * needsSecretKeyIn) and who may give it — a rotation makes a new one and re-wraps it, a grant wraps
 * it, so whoever rotates or grants must be someone who may hold it (team.ts, and the server's
 * membership.ts and group-setting.ts checks of a push).
 * In a group whose codes the server computes, the secret key opens the OTP keys the setting keeps
 * from everyone who may not reveal them: only a role with otp.reveal_secret holds it there. Every
 * other role holds the list key alone: its codes come from the server (otp.view), and its
 * passwords.reveal, entries.create and entries.edit do not work in that group.
 */
export function mayHoldSecretKeyIn(permissions: readonly Permission[], serverComputesCodes: boolean): boolean {
  return serverComputesCodes ? permissions.includes('otp.reveal_secret') : holdsSecretKeys(permissions);
}

/**
 * What the encryption (not only the app) keeps from a role, in words for the role list: a
 * role without secret keys cannot open secrets even from a copy of the file; a role that holds
 * them but may not reveal them (codes-only) is kept from them by the app alone; a role without
 * otp.reveal_secret holds the list key alone in a group whose codes the server computes (mayHoldSecretKeyIn).
 */
export function keyHoldingNote(permissions: readonly Permission[]): string {
  if (!holdsSecretKeys(permissions)) return 'Holds no secret key: passwords, notes and OTP keys stay sealed from it, even with a copy of the vault file.';
  const reveals = permissions.includes('passwords.reveal') && permissions.includes('otp.reveal_secret');
  if (reveals) return 'Holds its groups\' secret keys.';
  const computes = permissions.includes('otp.view') && !permissions.includes('otp.reveal_secret') ? ' (a desktop computes codes from the OTP key)' : '';
  const held = `Holds its groups' secret keys${computes}: what it may not reveal is kept from it by the app, not by encryption.`;
  if (permissions.includes('otp.reveal_secret')) return held;
  const codes = permissions.includes('otp.view') ? ' codes come from the team server;' : '';
  return `${held} In a group whose codes the team server computes it holds the list key alone:${codes} passwords, notes and OTP keys there stay sealed from it, and it creates or edits no entry there.`;
}

/** Roles that manage every group, and so are given every group's key. */
export const ALL_GROUP_ROLES: readonly Role[] = ['owner', 'admin'];

export function holdsAllGroups(role: Role): boolean {
  return ALL_GROUP_ROLES.includes(role);
}

/**
 * The one question both the UI ("show the button?") and the router ("allow the call?") ask:
 * may `actor` use `permission`, on the entries or the management of group `groupId` when one
 * is named? Entry permissions need membership; `groups.manage` needs an all-groups role or
 * the lead of that group.
 */
export function can(actor: Actor, permission: Permission, groupId?: number): boolean {
  if (!actor.permissions.includes(permission)) return false;
  if (groupId === undefined) return true;
  const membership = actor.groups.get(groupId);
  if (permission === 'groups.manage') return holdsAllGroups(actor.role) || membership?.lead === true;
  if (permission === 'users.manage' || permission === 'audit.read') return true;
  return membership !== undefined;
}

// ---- acting on people and roles ----------------------------------------------------------------
// The rules that stop a users.manage holder from climbing: a custom role with users.manage is
// not an admin. They are here, beside `can`, so the UI hides what the vault would refuse; the
// vault (electron/vault/team.ts, mfa.ts) enforces them.

/** Who may act on whom: owners above admins above everyone else. */
export function roleRank(role: Role): number {
  return role === 'owner' ? 2 : role === 'admin' ? 1 : 0;
}

/** Roles only an owner may give, or act on the holders of. */
export const OWNER_GRANTED_ROLES: readonly Role[] = ['owner', 'admin'];

/** A person as the rules about people see them. */
export interface Person {
  readonly id: number;
  readonly role: Role;
  readonly permissions: readonly Permission[];
}

/** The permissions `wanted` holds that `own` does not (empty: no climb). */
export function permissionsBeyond(own: readonly Permission[], wanted: readonly Permission[]): Permission[] {
  return wanted.filter((p) => !own.includes(p));
}

/**
 * Why `actor` may not give role `role` (with `permissions`) to someone, or undefined if they
 * may: nobody gives a role whose permissions exceed their own, and only an owner gives the
 * owner or admin role.
 */
export function whyNotAssignRole(actor: Person, role: Role, permissions: readonly Permission[]): string | undefined {
  if (OWNER_GRANTED_ROLES.includes(role) && actor.role !== 'owner') return `Only an owner can make someone ${role}.`;
  const beyond = permissionsBeyond(actor.permissions, permissions);
  if (beyond.length > 0) return `You cannot give a role with a permission you do not have (${beyond.join(', ')}).`;
  return undefined;
}

/**
 * Why `actor` may not act on `target` (change their role, disable them, reset their password
 * or two-step sign-in, issue them an emergency code, forget their computers), or undefined:
 * nobody acts on themselves this way, admins never act on owners, and nobody acts on someone
 * whose role allows more than their own.
 */
export function whyNotActOn(actor: Person, target: Person): string | undefined {
  if (actor.id === target.id) return 'You cannot do this to yourself.';
  if (roleRank(target.role) > roleRank(actor.role)) return `Only an owner can act on ${target.role === 'owner' ? 'an owner' : 'an admin'}.`;
  if (roleRank(target.role) === roleRank(actor.role)) {
    const beyond = permissionsBeyond(actor.permissions, target.permissions);
    if (beyond.length > 0) return `This person's role allows more than yours (${beyond.join(', ')}).`;
  }
  return undefined;
}

/**
 * Why `actor` may not change what applies to everyone (vault settings such as idle lock and
 * trust days, the MFA policy), or undefined: owners and admins only — a custom role with
 * users.manage would otherwise weaken sign-in for those above it. The policy of the owner role
 * itself is an owner's to set.
 */
export function whyNotManageVault(actor: Pick<Person, 'role'>, forRole?: Role): string | undefined {
  if (roleRank(actor.role) < 1) return 'Only owners and admins change vault-wide settings and the two-step sign-in policy.';
  if (forRole !== undefined && forRole.toLowerCase() === 'owner' && actor.role !== 'owner') return 'Only an owner sets the policy of the owner role.';
  return undefined;
}
