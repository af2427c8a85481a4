/**
 * Codes the server sends for the second step: six letters by e-mail (valid 5 minutes,
 * finPOWER), which also authorise the device they are used on (devices.ts), and six digits by
 * text message through the SMS provider (valid the minutes its settings say, at least 5, Q360).
 * A code belongs to one sign-in (session) and works once; a new one replaces the old, at most
 * five are sent per sign-in; a wrong one counts like a wrong authenticator code (second-step.ts:
 * five end the attempt, the account and the address wait); an expired one ends the attempt
 * (back to the password). The person sees where it went masked: the e-mail's first two
 * characters and its domain, the phone's first digit and last four.
 *
 * Must never: log, audit or return a code; keep one unhashed; say more of an address than the mask.
 */
import { randomInt } from 'node:crypto';
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit, type AuditKind } from '../audit';
import type { ServerContext } from '../context';
import { keyedHash } from '../keys';
import { audited, canSendEmail, deliverEmail, deliverSms, smsSettings } from '../settings/delivery';
import { mfaStanding } from '../store/mfa';
import { findContact, putSentCode, takeSentCode, type SendChannel } from '../store/sent-codes';
import { deleteSession } from '../store/sessions';
import { authoriseDevice, standingAfterSecondStep } from './devices';
import { checkSecondStep } from './second-step';
import type { Authenticated } from './sessions';

export const EMAIL_CODE_MS = 5 * 60_000;
/** Codes sent per sign-in and channel. */
export const MAX_SENDS_PER_ATTEMPT = 5;
/** Letters without I and O, read from a mail without doubt. */
const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, Math.min(2, at))}***${email.slice(at)}`;
}

export function maskPhone(phone: string): string {
  return `+${phone.slice(1, 2)}***${phone.slice(-4)}`;
}

function newCode(channel: SendChannel): string {
  const alphabet = channel === 'email' ? LETTERS : '0123456789';
  let code = '';
  for (let i = 0; i < 6; i += 1) code += alphabet[randomInt(alphabet.length)];
  return code;
}

function codeHash(ctx: ServerContext, channel: SendChannel, sessionId: string, code: string): string {
  return keyedHash(ctx.keys, `${channel} code ${sessionId}`, code.trim().toUpperCase());
}

export async function mfaMethods(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'mfaMethods'>> {
  const contact = await findContact(ctx.db, auth.user.id);
  const email = contact.email !== null && await canSendEmail(ctx.db) ? maskEmail(contact.email) : null;
  const sms = contact.phone !== null && await smsSettings(ctx) !== undefined ? maskPhone(contact.phone) : null;
  const { authenticator } = await mfaStanding(ctx.db, auth.user.id);
  return { authenticator, email, sms, contactAdministrator: email === null && sms === null };
}

/** Sends a new code on `channel` for this sign-in. */
export async function sendCode(ctx: ServerContext, auth: Authenticated, channel: SendChannel, source: string): Promise<ServerRouteOutput<'mfaEmailSend'>> {
  if (auth.secondStep === 'done') throw new CrewvaultError('INVALID_INPUT', 'Nothing is left to verify in this sign-in');
  if (channel === 'sms' && auth.secondStep === 'device') throw new CrewvaultError('FORBIDDEN', 'A new device is authorised with a code sent by e-mail');
  const contact = await findContact(ctx.db, auth.user.id);
  const to = channel === 'email' ? contact.email : contact.phone;
  if (to === null) {
    throw new CrewvaultError('FORBIDDEN', `You have no ${channel === 'email' ? 'e-mail address' : 'phone number'} on file: contact your administrator`);
  }
  let lifeMs = EMAIL_CODE_MS;
  if (channel === 'sms') {
    const settings = await smsSettings(ctx);
    if (settings === undefined) throw new CrewvaultError('FORBIDDEN', 'This server cannot send text messages: contact your administrator');
    lifeMs = settings.codeExpiryMinutes * 60_000;
  } else if (!await canSendEmail(ctx.db)) {
    throw new CrewvaultError('FORBIDDEN', 'This server cannot send e-mail: contact your administrator');
  }
  const code = newCode(channel);
  const expiresAt = ctx.now() + lifeMs;
  const sends = await putSentCode(ctx.db, { sessionId: auth.session.id, channel, hash: codeHash(ctx, channel, auth.session.id, code), expiresAt, maxSends: MAX_SENDS_PER_ATTEMPT });
  if (sends === undefined) throw new CrewvaultError('TOO_MANY_ATTEMPTS', 'Too many codes were sent in this sign-in: sign in again with your password');
  const minutes = Math.round(lifeMs / 60_000);
  // The code goes to the person and nowhere else: not to a log, the audit or the reply.
  const kind: AuditKind = channel === 'email' ? 'mfa.email-sent' : 'mfa.sms-sent';
  await audited(ctx, { kind, actorId: auth.user.id, subjectId: auth.user.id, source, detail: { sends } }, channel === 'email'
    ? deliverEmail(ctx, {
      to, subject: 'Your Crewvault sign-in code',
      text: `Your Crewvault sign-in code is ${code}\n\nIt works once, for ${minutes} minutes. If you are not signing in, someone knows your password: change it and tell your administrator.\n`,
    })
    : deliverSms(ctx, { to, text: `Your Crewvault sign-in code is ${code} (${minutes} minutes, once).` }));
  return { destination: channel === 'email' ? maskEmail(to) : maskPhone(to), expiresAt };
}

/** The second step with a sent code; an e-mailed one also authorises this device. */
export async function useSentCode(ctx: ServerContext, auth: Authenticated, channel: SendChannel, input: ServerRouteInput<'mfaEmail'>, source: string): Promise<ServerRouteOutput<'mfaEmail'>> {
  if (auth.secondStep === 'done') throw new CrewvaultError('INVALID_INPUT', 'Nothing is left to verify in this sign-in');
  const kind: AuditKind = channel === 'email' ? 'mfa.email' : 'mfa.sms';
  await checkSecondStep<true>(ctx, auth, kind, source, async (tx) => {
    const taken = await takeSentCode(tx, auth.session.id, channel, codeHash(ctx, channel, auth.session.id, input.code));
    if (taken === undefined) return 'wrong';
    if (taken.expiresAt <= ctx.now()) {
      await deleteSession(tx, auth.session.id);
      await appendAudit(tx, ctx, { kind: 'mfa.attempt-ended', actorId: auth.user.id, subjectId: auth.user.id, source, detail: { via: kind, expired: true } });
      return { error: new CrewvaultError('UNAUTHORIZED', 'That code has expired: sign in again with your password') };
    }
    if (channel === 'email') await authoriseDevice(tx, ctx, auth, source);
    return { value: true };
  });
  return { secondStep: await standingAfterSecondStep(ctx, auth) };
}
