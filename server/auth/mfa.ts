/**
 * The second sign-in step on the server (issue #14): an authenticator (TOTP, RFC 6238) set
 * up with one code, then asked for after the password whenever the person has one or the
 * policy requires one (mfa-policy.ts). A session past its password step only is refused everything that
 * releases data (server/app.ts, MFA_REQUIRED) until this step is done. Turning one's own
 * authenticator off needs a fresh second step and is refused where the policy requires one.
 *
 * Rules: a code of the current step or one either side is accepted (clocks drift), never a
 * step at or before the last one accepted. Wrong codes, waits and the end of an attempt are
 * second-step.ts's, shared with recovery and emergency codes. Each check and the use of
 * what it checked happen in one transaction on the locked row, so of two requests with one
 * code one wins.
 *
 * The TOTP key is kept sealed under a key from the server's key file (server/keys.ts
 * sealSecret): the server must compute codes to check them, so a hash would not do, and a
 * dump of the database alone opens nothing. Must never: log or audit a code or a key.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { buildOtpUri, defaultOtpParams, encodeSecret, groupSecret, hotpCode, timeStep, DEFAULT_PERIOD, type OtpParams } from '../../shared/otp';
import { appendAudit, recordAudit } from '../audit';
import type { ServerContext } from '../context';
import { openSecret, sealSecret } from '../keys';
import { forgetTrustedDevices } from '../store/devices';
import { deleteSecondSteps, enableAuthenticator, lockAuthenticator, mfaStanding, putPendingSecret, setLastStep } from '../store/mfa';
import { newRecoveryCodes, recoveryCodesLeft } from './recovery';
import { checkSecondStep, requireFreshProof } from './second-step';
import type { Authenticated } from './sessions';

/** A setup waits this long for its first code. */
export const ENROLMENT_MS = 30 * 60_000;

function secretPurpose(kind: 'pending' | 'authenticator', userId: string): string {
  return `crewvault mfa ${kind} ${userId}`;
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

export async function mfaStatus(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'mfaStatus'>> {
  const { authenticator, policy } = await mfaStanding(ctx.db, auth.user.id);
  return { authenticator, policy, secondStep: auth.secondStep, recoveryCodesLeft: await recoveryCodesLeft(ctx.db, auth.user.id) };
}

/** A fresh key (160 bits) waiting for its first code; refused when one is on, or the policy that applies is off. */
export async function enrolStart(ctx: ServerContext, auth: Authenticated, source: string): Promise<ServerRouteOutput<'mfaEnrolStart'>> {
  if ((await mfaStanding(ctx.db, auth.user.id)).policy === 'off') throw new CrewvaultError('FORBIDDEN', 'Two-step sign-in is turned off for you on this server');
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

/**
 * Turns one's own authenticator off, with its recovery codes and the trust of one's devices:
 * only right after a second step in this session, and never where the policy requires one.
 */
export async function disableAuthenticator(ctx: ServerContext, auth: Authenticated, source: string): Promise<ServerRouteOutput<'mfaDisable'>> {
  const userId = auth.user.id;
  const standing = await mfaStanding(ctx.db, userId);
  if (!standing.authenticator) throw new CrewvaultError('NOT_FOUND', 'You have no authenticator on this server');
  if (standing.policy === 'required') throw new CrewvaultError('FORBIDDEN', 'Two-step sign-in is required for you here: your authenticator stays on');
  requireFreshProof(ctx.now(), auth, false);
  return ctx.db.transaction(async (tx) => {
    await deleteSecondSteps(tx, userId);
    const trustedDevices = await forgetTrustedDevices(tx, userId, ctx.now());
    await appendAudit(tx, ctx, { kind: 'mfa.disabled', actorId: userId, subjectId: userId, source, detail: { trustedDevices } });
    return { removed: true as const, trustedDevices };
  });
}
