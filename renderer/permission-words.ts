/**
 * Each permission in words a person reads (the codes stay in the CLI and the audit log), and
 * what a role change gives and takes away. A Record over every Permission, so a new one cannot
 * be left unworded.
 */
import type { Permission } from '../shared/policy';

export const PERMISSION_WORDS: Readonly<Record<Permission, string>> = {
  'entries.view': 'see entries',
  'passwords.reveal': 'reveal and copy passwords',
  'otp.view': 'see one-time codes',
  'otp.reveal_secret': 'reveal OTP secret keys',
  'entries.create': 'add entries',
  'entries.edit': 'edit entries',
  'entries.delete': 'delete entries',
  'groups.manage': 'manage access groups',
  'users.manage': 'manage users and roles',
  'audit.read': 'read the audit log',
};

export function inWords(permissions: readonly Permission[]): string {
  return permissions.length === 0 ? 'nothing' : permissions.map((p) => PERMISSION_WORDS[p]).join(', ');
}

/** What moving from `from` to `to` adds and removes, in PERMISSIONS order. */
export function permissionChange(from: readonly Permission[], to: readonly Permission[]): { gains: Permission[]; losses: Permission[] } {
  return { gains: to.filter((p) => !from.includes(p)), losses: from.filter((p) => !to.includes(p)) };
}
