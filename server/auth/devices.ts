/**
 * A person's devices (the device id each session carries). New-device authorisation: once the
 * server can send e-mail and the person has an address on file, a device no e-mailed code
 * has authorised gets one (server/auth/sent-codes.ts) before anything is released, once; after
 * that it is authorised. "Trust this device", asked right after a second step, skips the
 * second step on that device for the hours the SMS settings give (48 unless set, Q360).
 * People list and remove their own devices; owners anyone's, admins anyone's but an owner's.
 * Removing a device removes its authorisation and trust and ends its sessions.
 *
 * A device proves it is the one authorised or trusted with a device token, not its id (which
 * is no secret): each sign-in presents the token the device was given, or gets a new one; an
 * authorisation or trust binds the token of the session that earned it (schema 10).
 *
 * Where a session stands is decided here for every request (server/auth/sessions.ts) and at
 * sign-in (login.ts), from the second step (second-step.ts), the session's idle time (a
 * session unused whole for longer than the idle time owners set, 30 minutes unless set, does
 * its second step again; a trusted device is not asked) and the device's standing.
 * Must never: let a removed device keep a session, trust a device without a fresh second step,
 * or take a device id for proof.
 */
import { DEFAULT_TRUSTED_DEVICE_HOURS, type SecondStep, type ServerRouteInput, type ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit } from '../audit';
import { lastUseOf, type ServerContext } from '../context';
import { smsSettings } from '../settings/delivery';
import { findUserById } from '../store/accounts';
import type { Queryable, Transaction } from '../store/db';
import type { SessionRow } from '../store/sessions';
import {
  authoriseSessionDevice, deviceStanding, deviceTokenFits, listDevices, removeDevice, setSessionDeviceToken, trustSessionDevice, type DeviceStanding,
} from '../store/devices';
import { mfaStanding, type MfaStanding } from '../store/mfa';
import { secondStepOf } from './second-step';
import type { Authenticated } from './sessions';
import { hashToken, newToken } from './tokens';

/** "Trust this device" only this soon after a second step in the same session. */
export const TRUST_FRESH_MS = 5 * 60_000;

/** Where a session stands: its second step (skipped on a trusted device), then its device's authorisation. */
export async function sessionSecondStep(db: Queryable, session: SessionRow, now: number): Promise<SecondStep> {
  const mfa = await mfaStanding(db, session.userId);
  const device = await deviceStanding(db, session.userId, session.deviceId, { sessionId: session.id });
  return secondStepFrom(session, mfa, device, now);
}

/** sessionSecondStep's decision from what was read (authenticate reads it all in one statement: store/sessions.ts findSessionStanding). */
export function secondStepFrom(session: SessionRow, mfa: MfaStanding, device: DeviceStanding, now: number): SecondStep {
  const trusted = device.trustedUntil !== null && device.trustedUntil > now;
  // A second step from before the policy was last turned on counts no more (ClientTrack), nor
  // one in a session idle for longer than the idle time since it or its last use (finPOWER).
  const counted = session.secondStepAt !== null && session.secondStepAt >= mfa.askedSince ? session.secondStepAt : null;
  const idle = mfa.idleMs > 0 && now - Math.max(lastUseOf(session), counted ?? 0) > mfa.idleMs;
  const done = idle ? null : counted;
  const step = secondStepOf(done ?? (trusted ? now : null), mfa);
  if (step !== 'done' || mfa.policy === 'off') return step;
  return device.canEmail && !device.authorised ? 'device' : 'done';
}

/** After a second step just done in this session: what is left (`device`, or nothing). */
export async function standingAfterSecondStep(ctx: ServerContext, auth: Authenticated): Promise<SecondStep> {
  return sessionSecondStep(ctx.db, { ...auth.session, secondStepAt: ctx.now() }, ctx.now());
}

/**
 * At sign-in, after the session is opened: the device token it signs in with, the one the
 * device presented when a device row holds it, else a new one for the client to keep (returned).
 */
export async function deviceSignIn(db: Queryable, user: { readonly id: string }, deviceId: string, presented: string | undefined, accessToken: string): Promise<string | undefined> {
  if (presented !== undefined && await deviceTokenFits(db, user.id, deviceId, hashToken(presented))) {
    await setSessionDeviceToken(db, hashToken(accessToken), hashToken(presented));
    return undefined;
  }
  const fresh = newToken('cvd');
  await setSessionDeviceToken(db, hashToken(accessToken), hashToken(fresh));
  return fresh;
}

/** Authorises the session's device, inside the transaction that checked its e-mailed code. */
export async function authoriseDevice(tx: Transaction, ctx: ServerContext, auth: Authenticated, source: string): Promise<void> {
  await authoriseSessionDevice(tx, auth.session.id, ctx.now());
  await appendAudit(tx, ctx, { kind: 'device.authorised', actorId: auth.user.id, subjectId: auth.user.id, source, detail: { deviceId: auth.session.deviceId } });
}

export async function trustDevice(ctx: ServerContext, auth: Authenticated, source: string): Promise<ServerRouteOutput<'deviceTrust'>> {
  const now = ctx.now();
  if (auth.session.secondStepAt === null || now - auth.session.secondStepAt > TRUST_FRESH_MS) {
    throw new CrewvaultError('MFA_REQUIRED', 'Trust a device right after its second step: verify again first');
  }
  const hours = (await smsSettings(ctx))?.trustedDeviceHours ?? DEFAULT_TRUSTED_DEVICE_HOURS;
  const trustedUntil = now + hours * 60 * 60_000;
  await ctx.db.transaction(async (tx) => {
    await trustSessionDevice(tx, auth.session.id, trustedUntil);
    await appendAudit(tx, ctx, { kind: 'device.trusted', actorId: auth.user.id, subjectId: auth.user.id, source, detail: { deviceId: auth.session.deviceId, trustedUntil } });
  });
  return { trustedUntil };
}

export async function ownDevices(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'devicesList'>> {
  return { devices: await listDevices(ctx.db, auth.user.id) };
}

async function remove(ctx: ServerContext, auth: Authenticated, userId: string, deviceId: string, source: string): Promise<ServerRouteOutput<'deviceRemove'>> {
  return ctx.db.transaction(async (tx) => {
    const result = await removeDevice(tx, userId, deviceId);
    if (result.removed || result.endedSessions > 0) {
      await appendAudit(tx, ctx, { kind: 'device.removed', actorId: auth.user.id, subjectId: userId, source, detail: { deviceId, endedSessions: result.endedSessions } });
    }
    return result;
  });
}

export async function removeOwnDevice(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'deviceRemove'>, source: string): Promise<ServerRouteOutput<'deviceRemove'>> {
  return remove(ctx, auth, auth.user.id, input.deviceId, source);
}

/** Owners act on anyone; admins on anyone but an owner; members on nobody else. */
export async function requireActOn(ctx: ServerContext, auth: Authenticated, userId: string): Promise<void> {
  if (userId === auth.user.id) return;
  if (auth.user.role === 'member') throw new CrewvaultError('FORBIDDEN', 'Only owners and admins act on someone else\'s account');
  const target = await findUserById(ctx.db, userId);
  if (target === undefined) throw new CrewvaultError('NOT_FOUND', 'No such user on this server');
  if (target.role === 'owner' && auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Admins never act on an owner');
}

export async function someonesDevices(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'adminDevicesList'>): Promise<ServerRouteOutput<'adminDevicesList'>> {
  await requireActOn(ctx, auth, input.userId);
  return { devices: await listDevices(ctx.db, input.userId) };
}

export async function removeSomeonesDevice(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'adminDeviceRemove'>, source: string): Promise<ServerRouteOutput<'adminDeviceRemove'>> {
  await requireActOn(ctx, auth, input.userId);
  return remove(ctx, auth, input.userId, input.deviceId, source);
}
