/**
 * Who may do what: roles and their permissions. One pure table answers both the UI ("show
 * the button?") and the router ("allow the call?"); the router's answer is the one that
 * counts, and the crypto backs it (a non-member lacks the group key).
 * Access groups (which entries) come on top of this with the roles issue.
 */

export const ROLES = ['owner', 'admin', 'team_lead', 'technician', 'codes_only', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

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

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: EVERYTHING,
  admin: EVERYTHING,
  team_lead: [...TECHNICIAN, 'groups.manage'],
  technician: TECHNICIAN,
  // Teams ask for exactly this: share the code, never the seed (or the password).
  codes_only: ['entries.view', 'otp.view'],
  auditor: ['entries.view', 'audit.read'],
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}
