/**
 * The second sign-in step on the server (issue #14): an authenticator (TOTP, RFC 6238) set
 * up with one code, then asked for after the password whenever the person has one or the
 * policy requires one. A session past its password step only is refused everything that
 * releases data (server/app.ts, MFA_REQUIRED) until this step is done.
 *
 * Rules: a code of the current step or one either side is accepted (clocks drift), never a
 * step at or before the last one accepted; five wrong codes end the session (back to the
 * password); wrong codes in a row per account, whichever session made them, make the
 * account wait, doubling (throttle.ts's waits). Each check and the use of what it checked
 * happen in one transaction on the locked row, so of two requests with one code one wins.
 *
 * The TOTP key is kept sealed under a key from the server's key file (server/keys.ts
 * sealSecret): the server must compute codes to check them, so a hash would not do, and a
 * dump of the database alone opens nothing. Must never: log or audit a code or a key.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { MfaPolicyLevel, SecondStep, ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { buildOtpUri, defaultOtpParams, encodeSecret, groupSecret, hotpCode, timeStep, DEFAULT_PERIOD, type OtpParams } from '../../shared/otp';
import { appendAudit, recordAudit, type AuditKind } from '../audit';
import type { ServerContext } from '../context';
import { openSecret, sealSecret } from '../keys';
import type { Transaction } from '../store/db';
import {
  clearMfaFailures, countMfaFailure, enableAuthenticator, lockAuthenticator, mfaBlockedUntil, mfaStanding, putPendingSecret, readMfaPolicy, setLastStep,
  setMfaBlockedUntil, writeMfaPolicy,
} from '../store/mfa';
import { countWrongCode, deleteSession, setSecondStepDone } from '../store/sessions';
import { newRecoveryCodes, recoveryCodesLeft } from './recovery';
import type { Authenticated } from './sessions';
import { waitAfter } from './throttle';

/** A setup waits this long for its first code. */
export const ENROLMENT_MS = 30 * 60_000;
/** Wrong codes that end a session, and after which (in a row, per account) waiting begins. */
export const WRONG_CODES_PER_ATTEMPT = 5;

/** Where a session stands, from when its second step was done, the person's authenticator and the policy. */
export function secondStepOf(secondStepAt: number | null, standing: { readonly authenticator: boolean; readonly policy: MfaPolicyLevel }): SecondStep {
  if (secondStepAt !== null || standing.policy === 'off') return 'done';
  if (standing.authenticator) return 'code';
  return standing.policy === 'required' ? 'enrol' : 'done';
}

/** Throws MFA_REQUIRED unless the session may have data (app.ts, for every `session` route). */
export function requireSecondStep(auth: Authenticated): void {
  if (auth.secondStep === 'code') throw new CrewvaultError('MFA_REQUIRED', 'Enter the code from your authenticator app first');
  if (auth.secondStep === 'enrol') throw new CrewvaultError('MFA_REQUIRED', 'This server requires two-step sign-in: set up an authenticator app first');
}

function secretPurpose(kind: 'pending' | 'authenticator', userId: string): string {
  return `crewvault mfa ${kind} ${userId}`;
}

function wrongCode(): CrewvaultError {
  return new CrewvaultError('WRONG_CODE', 'That code is not right (or was already used)');
}

/**
 * What a check-and-use transaction decides: its value, or the refusal to throw once it has
 * committed (a wrong code's count must be kept, and a throw inside would roll it back).
 */
type Outcome<T> = { readonly value: T } | { readonly error: CrewvaultError };

function settled<T>(outcome: Outcome<T>): T {
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** The step (now, one before or one after) whose code is `code`, if later than `after`. */
export function matchingStep(secret: string, code: string, nowMs: number, after: number): number | undefined {
  const typed = Buffer.from(code.replace(/\s/g, ''), 'utf8');
  const now = timeStep(nowMs, DEFAULT_PERIOD);
  for (const step of [now, now - 1, now + 1]) {
    if (step <= after || step < 0) continue;
    const expected = Buffer.from(hotpCode({ ...defaultOtpParams(secret), kind: 'hotp', counter: step }).code, 'utf8');
    if (expected.length === typed.length && timingSafeEqual(expected, typed)) return step;
  }
  return undefined;
}

async function waiting(tx: Transaction, ctx: ServerContext, userId: string): Promise<CrewvaultError | undefined> {
  const until = await mfaBlockedUntil(tx, userId);
  const now = ctx.now();
  if (until <= now) return undefined;
  return new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many wrong codes: try again in ${Math.ceil((until - now) / 1000)} s`);
}

/**
 * A wrong second step, inside the transaction that checked it: counted for the account (and
 * its wait set) and for the session, which ends at the fifth. The refusal to throw after commit.
 */
export async function wrongSecondStep(tx: Transaction, ctx: ServerContext, auth: Authenticated, kind: AuditKind, source: string): Promise<CrewvaultError> {
  const userId = auth.user.id;
  const wait = waitAfter(await countMfaFailure(tx, userId), WRONG_CODES_PER_ATTEMPT);
  if (wait > 0) await setMfaBlockedUntil(tx, userId, ctx.now() + wait);
  if (await countWrongCode(tx, auth.session.id) >= WRONG_CODES_PER_ATTEMPT) {
    await deleteSession(tx, auth.session.id);
    await appendAudit(tx, ctx, { kind: 'mfa.attempt-ended', actorId: userId, subjectId: userId, source, detail: { via: kind } });
    return new CrewvaultError('UNAUTHORIZED', 'Too many wrong codes: this sign-in is over. Sign in again with your password');
  }
  await appendAudit(tx, ctx, { kind, actorId: userId, subjectId: userId, source, detail: { ok: false } });
  return wrongCode();
}

/** The second step done in this session: the account's wrong codes are forgotten. */
export async function secondStepDone(tx: Transaction, ctx: ServerContext, auth: Authenticated, kind: AuditKind, source: string): Promise<void> {
  await setSecondStepDone(tx, auth.session.id, ctx.now());
  await clearMfaFailures(tx, auth.user.id);
  await appendAudit(tx, ctx, { kind, actorId: auth.user.id, subjectId: auth.user.id, source, detail: { ok: true } });
}

/**
 * A check-and-use in one transaction: `check` returns the value when the second step is
 * right, or `wrong` when it is not (counted); the account's wait is checked first.
 */
export async function checkSecondStep<T>(ctx: ServerContext, auth: Authenticated, kind: AuditKind, source: string,
  check: (tx: Transaction) => Promise<Outcome<T> | 'wrong'>): Promise<T> {
  return settled(await ctx.db.transaction(async (tx): Promise<Outcome<T>> => {
    const refused = await waiting(tx, ctx, auth.user.id);
    if (refused !== undefined) return { error: refused };
    const outcome = await check(tx);
    if (outcome === 'wrong') return { error: await wrongSecondStep(tx, ctx, auth, kind, source) };
    if ('value' in outcome) await secondStepDone(tx, ctx, auth, kind, source);
    return outcome;
  }));
}

export async function mfaStatus(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'mfaStatus'>> {
  const standing = await mfaStanding(ctx.db, auth.user.id);
  return { ...standing, secondStep: auth.secondStep, recoveryCodesLeft: await recoveryCodesLeft(ctx.db, auth.user.id) };
}

/** A fresh key (160 bits) waiting for its first code; refused when one is on, or the policy is off. */
export async function enrolStart(ctx: ServerContext, auth: Authenticated, source: string): Promise<ServerRouteOutput<'mfaEnrolStart'>> {
  if (await readMfaPolicy(ctx.db) === 'off') throw new CrewvaultError('FORBIDDEN', 'Two-step sign-in is turned off on this server');
  const secret = encodeSecret(randomBytes(20));
  if (!await putPendingSecret(ctx.db, auth.user.id, sealSecret(ctx.keys, secretPurpose('pending', auth.user.id), secret), ctx.now())) {
    throw new CrewvaultError('ALREADY_EXISTS', 'You already have an authenticator');
  }
  await recordAudit(ctx, { kind: 'mfa.enrolment-started', actorId: auth.user.id, subjectId: auth.user.id, source });
  const params: OtpParams = defaultOtpParams(secret);
  return { secret: groupSecret(secret), uri: buildOtpUri({ params, issuer: 'Crewvault', account: auth.user.username }) };
}

/** One code from the waiting key turns it on (with ten recovery codes, returned to show once); it is this session's second step too. */
export async function enrolConfirm(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'mfaEnrolConfirm'>, source: string): Promise<ServerRouteOutput<'mfaEnrolConfirm'>> {
  const userId = auth.user.id;
  return checkSecondStep<ServerRouteOutput<'mfaEnrolConfirm'>>(ctx, auth, 'mfa.enrolled', source, async (tx) => {
    const now = ctx.now();
    const row = await lockAuthenticator(tx, userId);
    if (row === undefined || row.enabled || row.pendingSecret === null || row.pendingAt === null || now - row.pendingAt > ENROLMENT_MS) {
      return { error: new CrewvaultError('INVALID_INPUT', 'Start the authenticator setup first (a setup waits 30 minutes for its code)') };
    }
    const secret = openSecret(ctx.keys, secretPurpose('pending', userId), row.pendingSecret);
    if (secret === undefined) throw new CrewvaultError('INTERNAL', 'an authenticator setup does not open with this server\'s key');
    const step = matchingStep(secret, input.code, now, -1);
    if (step === undefined) return 'wrong';
    await enableAuthenticator(tx, userId, sealSecret(ctx.keys, secretPurpose('authenticator', userId), secret), now, step);
    return { value: { secondStep: 'done' as const, recoveryCodes: await newRecoveryCodes(tx, ctx, userId) } };
  });
}

/** The second step with the authenticator's code. */
export async function verifyCode(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'mfaVerify'>, source: string): Promise<ServerRouteOutput<'mfaVerify'>> {
  const userId = auth.user.id;
  return checkSecondStep<ServerRouteOutput<'mfaVerify'>>(ctx, auth, 'mfa.code', source, async (tx) => {
    const row = await lockAuthenticator(tx, userId);
    if (row === undefined || !row.enabled || row.sealedSecret === null) {
      return { error: new CrewvaultError('INVALID_INPUT', 'You have no authenticator on this server') };
    }
    const secret = openSecret(ctx.keys, secretPurpose('authenticator', userId), row.sealedSecret);
    if (secret === undefined) throw new CrewvaultError('INTERNAL', 'an authenticator key does not open with this server\'s key');
    const step = matchingStep(secret, input.code, ctx.now(), row.lastStep);
    if (step === undefined) return 'wrong';
    await setLastStep(tx, userId, step);
    return { value: { secondStep: 'done' as const } };
  });
}

/** The server-wide policy: owners only. Turning it off keeps everyone's authenticator. */
export async function setPolicy(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'mfaPolicySet'>, source: string): Promise<ServerRouteOutput<'mfaPolicySet'>> {
  if (auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only owners set the two-step sign-in policy');
  await ctx.db.transaction(async (tx) => {
    await writeMfaPolicy(tx, input.level);
    await appendAudit(tx, ctx, { kind: 'mfa.policy-set', actorId: auth.user.id, source, detail: { level: input.level } });
  });
  return { policy: input.level };
}
