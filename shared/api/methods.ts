/**
 * [Note: IPC contract] The names of the contract's methods, on their own so the preload and
 * the renderer's transport carry no schema code. contract.ts must define exactly these
 * (it is checked there at compile time).
 */
export const METHOD_NAMES = [
  'session.state',
  'vault.create',
  'vault.open',
  'vault.pick',
  'ui.settings',
  'ui.setTheme',
  'session.signIn',
  'session.lock',
  'session.changePassword',
  'session.verifyCode',
  'customers.list',
  'entries.list',
  'entries.get',
  'entries.create',
  'entries.update',
  'entries.delete',
  'otp.code',
  'secrets.reveal',
  'secrets.copy',
  'clipboard.copy',
  'audit.list',
  'groups.list',
  'groups.create',
  'groups.members',
  'groups.grant',
  'groups.revoke',
  'entries.move',
  'users.list',
  'users.create',
  'users.disable',
  'users.setRole',
  'users.resetPassword',
  'roles.list',
  'roles.define',
  'mfa.status',
  'mfa.begin',
  'mfa.confirm',
  'mfa.disable',
  'mfa.regenerate',
  'mfa.setPolicy',
  'mfa.reset',
  'mfa.emergency',
  'mfa.showKey',
  'mfa.policy',
  'mfa.devices',
  'mfa.forgetDevice',
  'settings.update',
  'import.begin',
  'import.chunk',
  'import.preview',
  'import.commit',
  'import.cancel',
  'vault.backup',
  'vault.export',
] as const;

export type MethodName = (typeof METHOD_NAMES)[number];

export function isMethodName(name: string): name is MethodName {
  return (METHOD_NAMES as readonly string[]).includes(name);
}
