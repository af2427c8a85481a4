/**
 * The options every vault command shares (--vault, --as/--user, the second step) and signing
 * in from the CLI: the password comes from a hidden terminal prompt or the next line of piped
 * stdin; a code is an option (scripts pass it), never prompted.
 * The vault is always closed (WAL checkpointed) when the command ends, however it ends.
 */
import { CrewvaultError } from '../../shared/errors';
import { defaultVaultPath } from '../paths';
import { Vault } from '../vault/vault';
import type { VaultSession } from '../vault/service';
import { UsageError, type CliIo } from './io';

export const VAULT_OPTIONS = {
  vault: { type: 'string' },
  user: { type: 'string' },
  // Automation reads better as "--as alice"; the same as --user.
  as: { type: 'string' },
  // The second sign-in step, for users with an authenticator (never prompted: scripts pass it).
  code: { type: 'string' },
  'recovery-code': { type: 'string' },
  // A 6-letter code an admin issued with "crewvault mfa emergency": once, within 2 minutes.
  'emergency-code': { type: 'string' },
} as const;

export interface VaultOptionValues {
  readonly vault?: string | undefined;
  readonly user?: string | undefined;
  readonly as?: string | undefined;
  readonly code?: string | undefined;
  readonly 'recovery-code'?: string | undefined;
  readonly 'emergency-code'?: string | undefined;
}

export interface SessionOptions {
  /** `crewvault passwd`: a person on an admin's one-time password may run it. */
  readonly allowOneTimePassword?: boolean;
  /**
   * `mfa begin` and `mfa confirm`: a person whom the policy requires to have an authenticator,
   * and who has none yet, may set one up (before anything else, a one-time password's change
   * included, as the app asks).
   */
  readonly allowEnrolment?: boolean;
  /**
   * `mfa confirm` only: --code is the code of the started setup, so it is not checked against
   * the current authenticator; confirmEnrolment checks it (see electron/cli/mfa.ts for why
   * that is enough). The command must do nothing but confirm.
   */
  readonly codeConfirmsSetup?: boolean;
}

export function vaultPath(values: VaultOptionValues, io: CliIo): string {
  return values.vault ?? defaultVaultPath(io.env);
}

/** Whether the user must set up an authenticator before anything else. */
function mustEnrol(session: VaultSession): boolean {
  return !session.mfa.status().enabled && session.mfa.policy().mine === 'required';
}

/**
 * The CLI's second sign-in step for a user with an authenticator: exactly one of --code,
 * --recovery-code or --emergency-code. Never echoes what was given. "-" reads it like a
 * password (hidden prompt, or the next piped line): a recovery code stays good until used, so
 * it should not sit in the process list while the command runs.
 */
async function secondStep(session: VaultSession, values: VaultOptionValues, io: CliIo, options: SessionOptions): Promise<void> {
  const given = async (name: 'code' | 'recovery-code' | 'emergency-code', prompt: string): Promise<string | undefined> => {
    const value = values[name];
    return value === '-' ? io.readSecret(prompt) : value;
  };
  if (session.mfa.status().enabled) {
    if (options.codeConfirmsSetup) return;
    const code = await given('code', 'Authentication code: ');
    const recovery = code === undefined ? await given('recovery-code', 'Recovery code: ') : undefined;
    const emergency = code === undefined && recovery === undefined ? await given('emergency-code', 'Emergency code: ') : undefined;
    if (code !== undefined) session.mfa.verifyCode(code, io.now());
    else if (recovery !== undefined) session.mfa.useRecoveryCode(recovery);
    else if (emergency !== undefined) session.mfa.useEmergencyCode(emergency, io.now());
    else throw new CrewvaultError('MFA_REQUIRED', 'This user signs in with an authentication code: pass --code CODE (or --recovery-code -, or an admin\'s --emergency-code CODE; "-" reads it like a password).');
  } else if (mustEnrol(session) && !options.allowEnrolment) {
    throw new CrewvaultError('MFA_REQUIRED', 'Two-step sign-in is required for this user: set up an authenticator with "crewvault mfa begin" first.');
  }
}

/** Refuses, before any password is asked, more than one way through the second step. */
function checkSecondStepOptions(values: VaultOptionValues): void {
  const given = (['code', 'recovery-code', 'emergency-code'] as const).filter((name) => values[name] !== undefined);
  if (given.length > 1) throw new UsageError(`give only one of --${given.join(', --')}`);
  // A recovery code stays good until used: never in the process list (a code from the app and
  // an emergency code die within minutes and once used, so scripts may pass those).
  if (values['recovery-code'] !== undefined && values['recovery-code'] !== '-') {
    throw new UsageError('--recovery-code takes only "-": the code is then read like a password (a prompt, or the next line of piped stdin)');
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
 * still on an admin's one-time password can only run `crewvault passwd` (and, where the policy
 * requires an authenticator they have not set up, set one up first).
 */
export async function withSession<T>(
  values: VaultOptionValues,
  io: CliIo,
  work: (session: VaultSession, password: string) => Promise<T> | T,
  options: SessionOptions = {},
): Promise<T> {
  checkSecondStepOptions(values);
  return withVault(values, io, async (vault) => {
    const who = values.as ?? values.user;
    const password = await io.readSecret(`Password for ${who ?? 'the vault'}: `);
    const session = await vault.signIn(who, password);
    try {
      await secondStep(session, values, io, options);
      const enrolling = options.allowEnrolment === true && mustEnrol(session);
      if (!options.allowOneTimePassword && !enrolling && session.mustChangePassword) {
        throw new CrewvaultError('PASSWORD_CHANGE_REQUIRED', 'You signed in with a one-time password: set your own with "crewvault passwd" first.');
      }
      return await work(session, password);
    } finally {
      session.lock();
    }
  });
}
