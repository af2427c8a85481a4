/**
 * The sign-in rules every door follows (DESIGN "Sign-in and MFA", issue #13): what is due after
 * a right password (a code from the person's app, a recovery code or an admin's emergency code;
 * or, where the policy requires an authenticator they lack, setting one up), within how long
 * and with how many wrong codes; what a session may do while it still holds an admin's
 * one-time password or lacks a required authenticator; and the fresh proof (a code from their
 * app, or their password) before a sensitive change.
 *
 * The router (a session kept between calls) and the CLI (a sign-in per command) both call this
 * module, so the same situation gets the same answer at either door. A door only adapts: it
 * keeps the attempt, hands over what the person typed, and words the "how" of an answer in its
 * own terms (`DoorWords`). Never put a code or a password in an error, a log or an audit row.
 */
import { CrewvaultError } from '../../shared/errors';
import type { Enrolment, RecoveryDelivery } from './mfa';
import type { Clock, VaultSession } from './service';

/** How long the second step may take after the right password. */
export const SECOND_STEP_MS = 5 * 60_000;
/** Wrong codes in one attempt before it ends (back to the password). The vault's own backoff
 * (mfa.ts checkBackoff) counts across attempts on top of this. */
export const MAX_CODE_FAILURES = 5;

export type SecondStep = 'code' | 'enrol';

/** What the person gave for the second step: exactly one of the three. */
export interface SecondFactor {
  readonly code?: string | undefined;
  readonly recoveryCode?: string | undefined;
  readonly emergencyCode?: string | undefined;
}
export type SecondFactorKind = keyof SecondFactor;
const FACTOR_KINDS: readonly SecondFactorKind[] = ['code', 'recoveryCode', 'emergencyCode'];

/** A fresh proof before a sensitive change: a code from the person's app, or their password. */
export interface Proof {
  readonly code?: string | undefined;
  readonly password?: string | undefined;
}

/**
 * What a call or command is for. Before anything else, a person whom the policy requires to
 * have an authenticator sets one up (`set-up`, `confirm-set-up`), and a person on a one-time
 * password replaces it (`change-password`).
 */
export type Purpose = 'anything' | 'change-password' | 'set-up' | 'confirm-set-up';

/** How a door tells people to do what is due, in its own terms (flags, buttons). */
export interface DoorWords {
  /** e.g. "enter the code from your app, a recovery code or an emergency code" */
  readonly giveCode: string;
  /** e.g. "set up an authenticator" */
  readonly setUpAuthenticator: string;
  /** e.g. "choose your own" */
  readonly choosePassword: string;
}

function isSettingUp(purpose: Purpose): boolean {
  return purpose === 'set-up' || purpose === 'confirm-set-up';
}

function codeRequired(words: DoorWords): CrewvaultError {
  return new CrewvaultError('MFA_REQUIRED', `This user signs in with an authentication code: ${words.giveCode}.`);
}

function setUpRequired(words: DoorWords): CrewvaultError {
  return new CrewvaultError('MFA_REQUIRED', `Two-step sign-in is required for this user: ${words.setUpAuthenticator} first.`);
}

/** Whether the policy requires an authenticator this person has not set up (read afresh). */
export async function mustSetUpAuthenticator(session: VaultSession): Promise<boolean> {
  return (await session.mfa.policy()).mine === 'required' && !(await session.mfa.status()).enabled;
}

/** The second step a right password leads to, if any. */
export async function secondStepDue(session: VaultSession): Promise<SecondStep | undefined> {
  if ((await session.mfa.status()).enabled) return 'code';
  return (await mustSetUpAuthenticator(session)) ? 'enrol' : undefined;
}

/**
 * Whether a fully signed-in session may do `purpose` now, asked by every door before every call
 * or command (the router's admit, the CLI's sign-in and its unlocked session alike): the
 * session still stands (LOCKED once the account was disabled, the password changed or the
 * second step reset elsewhere: VaultSession.recheck); then a required authenticator comes first
 * (MFA_REQUIRED), then replacing a one-time password (PASSWORD_CHANGE_REQUIRED); all before
 * any permission is looked at, so the answer says what to do next and nothing about the role.
 */
export async function admitSession(session: VaultSession, purpose: Purpose, words: DoorWords): Promise<void> {
  await session.recheck();
  if (await mustSetUpAuthenticator(session)) {
    if (isSettingUp(purpose)) return;
    throw setUpRequired(words);
  }
  if (purpose !== 'change-password' && await session.mustChangePassword()) {
    throw new CrewvaultError('PASSWORD_CHANGE_REQUIRED', `You signed in with a one-time password: ${words.choosePassword} first.`);
  }
}

/**
 * A fresh proof from the signed-in person before a sensitive change: a code from their app, or
 * their password (both counted and backed off by the vault). An unlocked session left alone is
 * not enough. A door that signs in for every command (the CLI) has this proof in that sign-in.
 */
export async function proveItIsYou(session: VaultSession, proof: Proof, toDo: string, now: number): Promise<void> {
  if (proof.code !== undefined) await session.mfa.verifyCode(proof.code, now);
  else if (proof.password !== undefined) await session.confirmPassword(proof.password);
  else throw new CrewvaultError('MFA_REQUIRED', `Enter your password or a code from your app to ${toDo}.`);
}

/**
 * Before acting on another person's second factor (a reset): the admin's own authenticator code
 * when they have one (not their password, nor a recovery or emergency code), else their password.
 */
export async function proveToActOnOthers(session: VaultSession, proof: Proof, now: number): Promise<void> {
  if ((await session.mfa.status()).enabled) {
    if (proof.code === undefined) throw new CrewvaultError('MFA_REQUIRED', 'Enter your own authentication code to reset another user\'s.');
    await session.mfa.verifyCode(proof.code, now);
  } else {
    if (proof.password === undefined) throw new CrewvaultError('WRONG_PASSWORD', 'Enter your own password to reset another user\'s two-step sign-in.');
    await session.confirmPassword(proof.password);
  }
}

/**
 * Setting up an authenticator from a fully signed-in session: refused where the policy turns
 * two-step sign-in off (a new device included), and replacing a working one takes a fresh proof.
 */
export async function beginSetUp(session: VaultSession, proof: Proof, now: number): Promise<Enrolment> {
  if ((await session.mfa.policy()).mine === 'off') throw new CrewvaultError('FORBIDDEN', 'Two-step sign-in is turned off for your role.');
  if ((await session.mfa.status()).enabled) await proveItIsYou(session, proof, 'set up another authenticator', now);
  return session.mfa.beginEnrolment(now);
}

/**
 * One sign-in between the right password and a usable session. The session stays unusable
 * (`admit` refuses) until the step due is done; the attempt ends — the door drops the session —
 * after SECOND_STEP_MS or MAX_CODE_FAILURES wrong codes, whichever comes first.
 */
export class SignInAttempt {
  readonly session: VaultSession;
  private readonly clock: Clock;
  private readonly since: number;
  private step: SecondStep | 'done';
  private failures = 0;
  private ended = false;

  private constructor(session: VaultSession, clock: Clock, step: SecondStep | undefined, since = clock.now()) {
    this.session = session;
    this.clock = clock;
    this.since = since;
    this.step = step ?? 'done';
  }

  /** Starts the clock on the second step, right after `session` was opened with a right password. */
  static async afterPassword(session: VaultSession, clock: Clock): Promise<SignInAttempt> {
    // The clock starts with the right password, before the step due is looked up.
    const since = clock.now();
    return new SignInAttempt(session, clock, await secondStepDue(session), since);
  }

  /** A signed-in session sent back to set up the authenticator its policy now requires. */
  static toSetUp(session: VaultSession, clock: Clock): SignInAttempt {
    return new SignInAttempt(session, clock, 'enrol');
  }

  /** The step still due, if any. */
  get due(): SecondStep | undefined {
    return this.step === 'done' ? undefined : this.step;
  }

  /** True once the attempt ran out of time or tries: sign in with the password again. */
  get over(): boolean {
    return this.ended;
  }

  /**
   * Whether the session may do `purpose` yet. While a code is due, only confirming a started
   * authenticator setup goes ahead (its code, from a key only a fully signed-in session could
   * start, stands in for the current one); while a setup is due, only setting up.
   */
  async admit(purpose: Purpose, words: DoorWords): Promise<void> {
    this.inTime();
    if (this.step === 'code') {
      if (purpose !== 'confirm-set-up') throw codeRequired(words);
    } else if (this.step === 'enrol') {
      if (isSettingUp(purpose)) return;
      throw setUpRequired(words);
    }
    await admitSession(this.session, purpose, words);
  }

  /** The code step: exactly one factor. Only an authenticator code may earn "trust this computer". */
  async answer(given: SecondFactor, words: DoorWords): Promise<SecondFactorKind> {
    this.inTime();
    if (this.step === 'enrol') throw setUpRequired(words);
    if (this.step === 'done') throw new CrewvaultError('INVALID_INPUT', 'No code is due: this sign-in is complete.');
    const kinds = FACTOR_KINDS.filter((kind) => given[kind] !== undefined);
    const [kind] = kinds;
    if (kind === undefined) throw codeRequired(words);
    if (kinds.length > 1) throw new CrewvaultError('INVALID_INPUT', 'Give only one of a code, a recovery code or an emergency code.');
    const value = given[kind] ?? '';
    const now = this.clock.now();
    await this.counted(async () => {
      if (kind === 'code') await this.session.mfa.verifyCode(value, now);
      else if (kind === 'recoveryCode') await this.session.mfa.useRecoveryCode(value);
      else await this.session.mfa.useEmergencyCode(value, now);
    });
    this.step = 'done';
    return kind;
  }

  /** The setup step: a new key for a person whom the policy requires to have one. */
  async beginSetUp(words: DoorWords): Promise<Enrolment> {
    await this.admit('set-up', words);
    if (this.step !== 'enrol') throw new CrewvaultError('INVALID_INPUT', 'No authenticator setup is due in this sign-in.');
    return this.session.mfa.beginEnrolment(this.clock.now());
  }

  /**
   * Confirms a started setup with a code from its new key: ends the setup step, or stands in for
   * the code step (see `admit`). A wrong code counts like any other in this attempt.
   */
  async confirmSetUp(code: string, words: DoorWords, delivery: RecoveryDelivery = {}): Promise<string[]> {
    await this.admit('confirm-set-up', words);
    const recoveryCodes = await this.counted(() => this.session.mfa.confirmEnrolment(code, this.clock.now(), delivery));
    this.step = 'done';
    return recoveryCodes;
  }

  private inTime(): void {
    if (this.ended) throw new CrewvaultError('LOCKED', 'Sign in with your password first.');
    if (this.step !== 'done' && this.clock.now() - this.since > SECOND_STEP_MS) {
      this.ended = true;
      throw new CrewvaultError('LOCKED', 'The sign-in took too long: enter your password again.');
    }
  }

  private async counted<T>(check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } catch (error) {
      if (error instanceof CrewvaultError && error.code === 'WRONG_CODE' && ++this.failures >= MAX_CODE_FAILURES) {
        this.ended = true;
        throw new CrewvaultError('WRONG_CODE', `${MAX_CODE_FAILURES} wrong codes: sign in with your password again.`);
      }
      throw error;
    }
  }
}
