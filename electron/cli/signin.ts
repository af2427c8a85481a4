/**
 * The options every vault command shares (--vault, --user) and signing in from the CLI:
 * the password comes from a hidden terminal prompt or the next line of piped stdin.
 * The vault is always closed (WAL checkpointed) when the command ends, however it ends.
 */
import { CrewvaultError } from '../../shared/errors';
import { defaultVaultPath } from '../paths';
import { Vault } from '../vault/vault';
import type { VaultSession } from '../vault/service';
import type { CliIo } from './io';

export const VAULT_OPTIONS = {
  vault: { type: 'string' },
  user: { type: 'string' },
  // Automation reads better as "--as alice"; the same as --user.
  as: { type: 'string' },
  // The second sign-in step, for users with an authenticator (never prompted: scripts pass it).
  code: { type: 'string' },
  'recovery-code': { type: 'string' },
} as const;

export interface VaultOptionValues {
  readonly vault?: string | undefined;
  readonly user?: string | undefined;
  readonly as?: string | undefined;
  readonly code?: string | undefined;
  readonly 'recovery-code'?: string | undefined;
}

export function vaultPath(values: VaultOptionValues, io: CliIo): string {
  return values.vault ?? defaultVaultPath(io.env);
}

/** The CLI's second sign-in step: --code or --recovery-code when the user has an authenticator. */
function secondStep(session: VaultSession, values: VaultOptionValues, io: CliIo): void {
  if (session.mfa.status().enabled) {
    if (values.code !== undefined) session.mfa.verifyCode(values.code, io.now());
    else if (values['recovery-code'] !== undefined) session.mfa.useRecoveryCode(values['recovery-code']);
    else throw new CrewvaultError('MFA_REQUIRED', 'This user signs in with an authentication code: pass --code CODE (or --recovery-code CODE).');
  } else if (session.mfa.policy().mine === 'required') {
    throw new CrewvaultError('MFA_REQUIRED', 'Two-step sign-in is required for this user: set up an authenticator in the app first.');
  }
}

/** Opens the vault without signing in (for what needs no key, like verifying the audit chain). */
export async function withVault<T>(values: VaultOptionValues, io: CliIo, work: (vault: Vault) => Promise<T> | T): Promise<T> {
  const vault = Vault.open(vaultPath(values, io), { now: io.now });
  try {
    return await work(vault);
  } finally {
    vault.close();
  }
}

/**
 * Opens the vault, signs in, runs `work`, and locks and closes whatever happens. A person
 * still on an admin's one-time password can only run `crewvault passwd`.
 */
export function withSession<T>(
  values: VaultOptionValues,
  io: CliIo,
  work: (session: VaultSession, password: string) => Promise<T> | T,
  options: { readonly allowOneTimePassword?: boolean } = {},
): Promise<T> {
  return withVault(values, io, async (vault) => {
    const who = values.as ?? values.user;
    const password = await io.readSecret(`Password for ${who ?? 'the vault'}: `);
    const session = await vault.signIn(who, password);
    try {
      secondStep(session, values, io);
      if (!options.allowOneTimePassword && session.mustChangePassword) {
        throw new CrewvaultError('PASSWORD_CHANGE_REQUIRED', 'You signed in with a one-time password: set your own with "crewvault passwd" first.');
      }
      return await work(session, password);
    } finally {
      session.lock();
    }
  });
}
