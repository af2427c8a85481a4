/**
 * Sessions after a successful OPAQUE login: an access token (15 minutes) bound to the device
 * id the client signed in with, and a refresh token that is replaced at every use, good until
 * 30 days after the session was last used whole (a refresh alone is not a use); presenting
 * a replaced one again (someone copied it) or presenting one from another device ends the
 * session. Sign-out, sign-out everywhere, and the password change, which ends every other
 * session of the person. Tokens are stored only as SHA-256 (tokens.ts).
 *
 * Must never: accept an access token from another device, or after its session ended.
 */
import type { SecondStep, ServerRouteInput, ServerRouteOutput, ServerUser, SessionTokens } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit, recordAudit } from '../audit';
import { ACCESS_TTL_MS, lastUseOf, PASSWORD_FRESH_MS, REFRESH_TTL_MS, SECOND_STEP_TTL_MS, type ServerContext } from '../context';
import type { Queryable } from '../store/db';
import type { DeviceStanding } from '../store/devices';
import type { MfaStanding } from '../store/mfa';
import { findSealedKeys, replaceRegistrationRecord, type UserRow } from '../store/accounts';
import {
  deleteSession, deleteSessionByRefresh, deleteUserLoginAttempts, deleteUserSessions, insertSession, rotateSessionTokens, touchSession, type HeldSession, type SessionRow,
} from '../store/sessions';
import { secondStepFrom } from './devices';
import { sessionReads } from './session-reads';
import { checkRegistrationRecord, registrationResponse } from './opaque';
import { hashToken, newId, newToken } from './tokens';

export interface Authenticated {
  readonly session: SessionRow;
  readonly user: ServerUser;
  /** Whether the second step is still to do (server/auth/mfa.ts); app.ts refuses data until it is `done`. */
  readonly secondStep: SecondStep;
}

const SIGN_IN_AGAIN = 'Your session has ended: sign in again';

/** How often a session's last use is written: idle time is measured to within this. */
export const TOUCH_EVERY_MS = 60_000;

function accessExpired(): CrewvaultError {
  return new CrewvaultError('UNAUTHORIZED', 'Your access token has expired: refresh it');
}

/**
 * Where a session's second step stands at `now` (its second step, or a trusted device that excuses
 * it, under the MFA policy, then its device's authorisation: devices.ts secondStepFrom), or the
 * refusal of a session still waiting for one past SECOND_STEP_TTL_MS after the password (back to the
 * password). The one rule both doors apply: authenticate, at every request, and the codes batch
 * (sessionStillStands), so the two cannot drift.
 */
export function secondStepStanding(session: SessionRow, mfa: MfaStanding, device: DeviceStanding, now: number): SecondStep | CrewvaultError {
  const secondStep = secondStepFrom(session, mfa, device, now);
  // The code is asked in the same attempt as the password; a session that did its second step
  // and is asked again (idle, or the policy turned on again) is asked, not ended.
  if (secondStep !== 'done' && session.secondStepAt === null && now - session.authenticatedAt > SECOND_STEP_TTL_MS) {
    return new CrewvaultError('UNAUTHORIZED', 'The time for the second step ran out: sign in again with your password');
  }
  return secondStep;
}

/**
 * Whether a session authenticated earlier still stands at `now`, read again where a code is handed
 * out (server/codes/batch.ts): `held` is its row as read there, with its second step's standing
 * (undefined: it has ended: signed out, its password changed, its device removed, its second step
 * reset), `accessExpiresAt` the expiry of the access token the request came with. A session whose
 * second step no longer stands (the policy turned on after a password-only sign-in, the trust of the
 * device that excused it lapsed or forgotten) is refused as an ended one is. A refresh meanwhile
 * (a new access token, same session) is no reason to refuse.
 */
export function sessionStillStands(held: HeldSession | undefined, accessExpiresAt: number, now: number): CrewvaultError | undefined {
  if (held === undefined) return new CrewvaultError('UNAUTHORIZED', SIGN_IN_AGAIN);
  if (now >= accessExpiresAt) return accessExpired();
  const secondStep = secondStepStanding(held.session, held.mfa, held.device, now);
  if (secondStep instanceof CrewvaultError) return secondStep;
  return secondStep === 'done' ? undefined : new CrewvaultError('UNAUTHORIZED', SIGN_IN_AGAIN);
}

/** A session as a request presents it, not yet read: its access token's hash and the device it came from. */
export interface PresentedSession {
  readonly accessHash: string;
  readonly deviceId: string;
}

/** What a request presents (the headers), or the refusal of one that presents no session; reads nothing. */
export function presentedSession(accessToken: string | undefined, deviceId: string | undefined): PresentedSession {
  if (accessToken === undefined || deviceId === undefined) throw new CrewvaultError('UNAUTHORIZED', 'Sign in first');
  return { accessHash: hashToken(accessToken), deviceId };
}

/**
 * Where the session read for a presented access token stands at `now` (undefined: no session holds
 * the token, or its person is gone): refused when it is another device's or its access token expired,
 * else its second step's standing (secondStepStanding). The one rule authenticate applies at every
 * request and the codes batch applies to a session it reads itself (server/codes/batch.ts), so the two cannot drift.
 */
export function presentedStanding(held: HeldSession | undefined, deviceId: string, now: number): SecondStep | CrewvaultError {
  if (held === undefined || held.session.deviceId !== deviceId) return new CrewvaultError('UNAUTHORIZED', SIGN_IN_AGAIN);
  if (now >= held.session.accessExpiresAt) return accessExpired();
  return secondStepStanding(held.session, held.mfa, held.device, now);
}

/** A whole session in use is touched (its idle time starts again) at most once a TOUCH_EVERY_MS. */
export function touchDue(session: SessionRow, now: number): boolean {
  return now - lastUseOf(session) >= TOUCH_EVERY_MS;
}

export function publicUser(user: UserRow): ServerUser {
  return { id: user.id, username: user.username, role: user.role };
}

export async function openSession(db: Queryable, now: number, user: UserRow, deviceId: string, deviceName: string | null): Promise<SessionTokens> {
  const accessToken = newToken('cva');
  const refreshToken = newToken('cvr');
  const tokens = { accessToken, accessExpiresAt: now + ACCESS_TTL_MS, refreshToken, refreshExpiresAt: now + REFRESH_TTL_MS };
  await insertSession(db, {
    id: newId(), userId: user.id, deviceId, deviceName, now,
    accessHash: hashToken(accessToken), accessExpiresAt: tokens.accessExpiresAt,
    refreshHash: hashToken(refreshToken), refreshExpiresAt: tokens.refreshExpiresAt,
  });
  return tokens;
}

/**
 * The session behind `Authorization: Bearer <accessToken>` from `deviceId`, or UNAUTHORIZED,
 * with where its second step (and its device's authorisation, devices.ts) stands; one still
 * waiting for either past SECOND_STEP_TTL_MS after the password is over (back to the password).
 */
export async function authenticate(ctx: ServerContext, accessToken: string | undefined, deviceId: string | undefined): Promise<Authenticated> {
  const presented = presentedSession(accessToken, deviceId);
  // One statement: the session, its person, their second-step standing and their device's.
  // Read with the requests that arrived beside it, in one statement started after it arrived (session-reads.ts).
  const standing = await sessionReads(ctx).find(presented.accessHash);
  const now = ctx.now();
  const secondStep = presentedStanding(standing, presented.deviceId, now);
  if (secondStep instanceof CrewvaultError) throw secondStep;
  // presentedStanding refuses a missing standing: here it is one.
  if (standing === undefined) throw new CrewvaultError('UNAUTHORIZED', SIGN_IN_AGAIN);
  const { session } = standing;
  // A whole session in use: its idle time starts again (written at most once a minute).
  if (secondStep === 'done' && touchDue(session, now)) await touchSession(ctx.db, session.id, now + REFRESH_TTL_MS);
  return { session, user: standing.user, secondStep };
}

export async function refresh(ctx: ServerContext, input: ServerRouteInput<'refresh'>): Promise<ServerRouteOutput<'refresh'>> {
  const now = ctx.now();
  const refreshHash = hashToken(input.refreshToken);
  const accessToken = newToken('cva');
  const refreshToken = newToken('cvr');
  const accessExpiresAt = now + ACCESS_TTL_MS;
  const rotated = await rotateSessionTokens(ctx.db, {
    refreshHash, deviceId: input.deviceId, now,
    accessHash: hashToken(accessToken), accessExpiresAt,
    refreshHashNext: hashToken(refreshToken),
  });
  if (rotated === undefined) {
    // A replaced token, or one from another device: a copy is in someone else's hands, so
    // the session ends for both (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2).
    const ended = await deleteSessionByRefresh(ctx.db, refreshHash);
    for (const userId of ended) await recordAudit(ctx, { kind: 'session.copy-detected', subjectId: userId, detail: { deviceId: input.deviceId } });
    throw new CrewvaultError('UNAUTHORIZED', SIGN_IN_AGAIN);
  }
  return { tokens: { accessToken, accessExpiresAt, refreshToken, refreshExpiresAt: rotated.refreshExpiresAt } };
}

export async function signOut(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'signOut'>> {
  const endedSessions = await deleteSession(ctx.db, auth.session.id);
  await recordAudit(ctx, { kind: 'session.signed-out', actorId: auth.user.id, subjectId: auth.user.id, detail: { everywhere: false, sessions: endedSessions } });
  return { endedSessions };
}

export async function signOutEverywhere(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'signOutEverywhere'>> {
  const endedSessions = await deleteUserSessions(ctx.db, auth.user.id, null);
  await recordAudit(ctx, { kind: 'session.signed-out', actorId: auth.user.id, subjectId: auth.user.id, detail: { everywhere: true, sessions: endedSessions } });
  return { endedSessions };
}

function requireFreshSignIn(ctx: ServerContext, auth: Authenticated): void {
  if (ctx.now() - auth.session.authenticatedAt > PASSWORD_FRESH_MS) {
    throw new CrewvaultError('UNAUTHORIZED', 'Sign in again to change your password');
  }
}

export function passwordStart(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'passwordStart'>): Promise<ServerRouteOutput<'passwordStart'>> {
  requireFreshSignIn(ctx, auth);
  return Promise.resolve({ registrationResponse: registrationResponse(ctx.keys.opaqueSetup, auth.user.id, input.registrationRequest) });
}

/** The new record replaces the old; every other session and any sign-in half done ends. */
export async function passwordFinish(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'passwordFinish'>): Promise<ServerRouteOutput<'passwordFinish'>> {
  requireFreshSignIn(ctx, auth);
  checkRegistrationRecord(ctx.keys.opaqueSetup, auth.user.id, input.registrationRecord);
  return ctx.db.transaction(async (tx) => {
    if (!await replaceRegistrationRecord(tx, auth.user.id, input.registrationRecord, input.sealedKeys, ctx.now())) throw new CrewvaultError('UNAUTHORIZED', SIGN_IN_AGAIN);
    await deleteUserLoginAttempts(tx, auth.user.id);
    const endedSessions = await deleteUserSessions(tx, auth.user.id, auth.session.id);
    await appendAudit(tx, ctx, { kind: 'password.changed', actorId: auth.user.id, subjectId: auth.user.id, detail: { endedSessions } });
    return { endedSessions };
  });
}

/**
 * The person's sealed key material: a `session` route, so a session whose second step is
 * still to do is refused before this runs (app.ts; issue #14: nothing released before MFA).
 */
export async function accountKeys(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'accountKeys'>> {
  return { sealedKeys: await findSealedKeys(ctx.db, auth.user.id) };
}
