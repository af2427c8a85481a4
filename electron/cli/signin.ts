/**
 * The options every vault command shares (--vault, --as/--user, the second step) and signing
 * in from the CLI: the password comes from a hidden terminal prompt or the next line of piped
 * stdin; a code is an option (scripts pass it), never prompted.
 * The vault is always closed (WAL checkpointed) when the command ends, however it ends.
 * What is due after the password, and what a session may do before it has set up a required
 * authenticator or replaced a one-time password, is the vault's rule (vault/sign-in-flow.ts),
 * the same the app's router follows; this file only reads the options and words the answers.
 */
import { CrewvaultError } from '../../shared/errors';
import { defaultVaultPath } from '../paths';
import { Vault } from '../vault/vault';
import type { VaultSession } from '../vault/service';
import { admitSession, SignInAttempt, type DoorWords, type Purpose, type SecondFactor } from '../vault/sign-in-flow';
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

/** The "how" of each sign-in answer, in this door's terms (the rules are sign-in-flow.ts's). */
export const WORDS: DoorWords = {
  giveCode: 'pass --code CODE (or --recovery-code -, or an admin\'s --emergency-code CODE; "-" reads it like a password)',
  setUpAuthenticator: 'set up an authenticator with "crewvault mfa begin"',
  choosePassword: 'set your own with "crewvault passwd"',
};

/** What the command is for, as the sign-in rules see it. */
function purposeOf(options: SessionOptions): Purpose {
  if (options.codeConfirmsSetup) return 'confirm-set-up';
  if (options.allowEnrolment) return 'set-up';
  return options.allowOneTimePassword ? 'change-password' : 'anything';
}

/**
 * What was given for the second step: at most one of --code, --recovery-code or
 * --emergency-code (checkSecondStepOptions). Never echoed. "-" reads it like a password (hidden
 * prompt, or the next piped line): a recovery code stays good until used, so it should not sit
 * in the process list while the command runs.
 */
export async function givenFactor(values: VaultOptionValues, io: CliIo): Promise<SecondFactor> {
  const read = async (value: string | undefined, prompt: string): Promise<string | undefined> => (value === '-' ? io.readSecret(prompt) : value);
  return {
    code: await read(values.code, 'Authentication code: '),
    recoveryCode: await read(values['recovery-code'], 'Recovery code: '),
    emergencyCode: await read(values['emergency-code'], 'Emergency code: '),
  };
}

/** Refuses, before any password is asked, more than one way through the second step. */
export function checkSecondStepOptions(values: VaultOptionValues): void {
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
    await vault.close();
  }
}

/**
 * Signs in to an open vault as the options say: the password from io.readSecret, then the
 * second step, admitted for `options`' purpose. The session is locked again if any step fails.
 */
export async function signIn(
  vault: Vault,
  values: VaultOptionValues,
  io: CliIo,
  options: SessionOptions = {},
): Promise<{ session: VaultSession; password: string; attempt: SignInAttempt }> {
  checkSecondStepOptions(values);
  const who = values.as ?? values.user;
  const password = await io.readSecret(`Password for ${who ?? 'the vault'}: `);
  const session = await vault.signIn(who, password);
  try {
    const attempt = await SignInAttempt.afterPassword(session, { now: io.now });
    const purpose = purposeOf(options);
    // `mfa confirm`: the new key's code stands in for the current one (admit lets it through).
    if (attempt.due === 'code' && purpose !== 'confirm-set-up') await attempt.answer(await givenFactor(values, io), WORDS);
    await attempt.admit(purpose, WORDS);
    return { session, password, attempt };
  } catch (error) {
    session.lock();
    throw error;
  }
}

/**
 * Opens the vault, signs in, runs `work`, and locks and closes whatever happens. A person
 * still on an admin's one-time password can only run `crewvault passwd` (and, where the policy
 * requires an authenticator they have not set up, set one up first).
 * Run by the unlock agent (io.held), the command uses the session `crewvault unlock` began and
 * leaves it open: only the commands in UNLOCKED_COMMANDS are sent there, none of which reads
 * the password or the attempt (passwd and "mfa begin/confirm" always sign in here).
 */
export async function withSession<T>(
  values: VaultOptionValues,
  io: CliIo,
  /** `attempt`: this sign-in, for a command that finishes its second step itself (`mfa confirm`:
   * attempt.confirmSetUp keeps the attempt's time limit on a code read at a prompt). */
  work: (session: VaultSession, password: string, attempt: SignInAttempt) => Promise<T> | T,
  options: SessionOptions = {},
): Promise<T> {
  const held = io.held;
  if (held) {
    if (purposeOf(options) !== 'anything') throw new UsageError('this command signs in itself: run it after "crewvault lock"');
    try {
      // The vault's sign-in rules, asked afresh for every command as the app's router asks them
      // for every call: an ended session (disabled, password changed, second step reset) is
      // LOCKED, and one the policy now sends to set up an authenticator is MFA_REQUIRED. Either
      // ends the agent: the setup is a sign-in of its own ("crewvault mfa begin").
      await admitSession(held.session, 'anything', WORDS);
    } catch (error) {
      if (error instanceof CrewvaultError) held.ended(error.message);
      throw error;
    }
    try {
      return await work(held.session, '', held.attempt);
    } catch (error) {
      // A password changed or an account disabled elsewhere ends the session: the agent too.
      if (error instanceof CrewvaultError && error.code === 'LOCKED') held.ended(error.message);
      throw error;
    }
  }
  // Before the vault is opened: a recovery code given as an argument is refused as a usage
  // mistake whatever the vault path (it must not sit in the process list), as it always was.
  checkSecondStepOptions(values);
  return withVault(values, io, async (vault) => {
    const { session, password, attempt } = await signIn(vault, values, io, options);
    try {
      return await work(session, password, attempt);
    } finally {
      session.lock();
    }
  });
}
