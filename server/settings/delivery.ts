/**
 * How the server sends codes: its SMTP settings (e-mail) and its SMS provider's (Q360's
 * fields: service, user name, API key, sender number, code expiry in minutes, trusted-device
 * expiry in hours), set by an owner from the server's own machine (finPOWER's "Allow local
 * access only": the contract marks these routes `local`, and app.ts enforces it), each with a test send. The SMTP password and the API key are sealed under the
 * server's secrets key (server/keys.ts) before they reach the database, and no reply, log
 * line or audit event ever carries them.
 *
 * Rules: plain SMTP (no TLS) only to an SMTP server on loopback; a provider's base URL is
 * https, or http to loopback (the tests' provider); a code lives at least 5 minutes (the
 * contract). Must never: return or log a password or key, or send a secret over a network in the clear.
 */
import { z } from 'zod';
import {
  SMS_SERVICES, SMTP_SECURITY, type ServerRouteInput, type ServerRouteOutput,
} from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit, recordAudit, type AuditEvent } from '../audit';
import type { Authenticated } from '../auth/sessions';
import type { ServerContext } from '../context';
import { openSecret, sealSecret } from '../keys';
import { isLoopbackHost } from '../listen';
import { sendMail, type MailMessage, type SmtpSettings } from '../mail/smtp';
import { SMS_ADAPTERS, type SmsService } from '../sms/index';
import type { SmsMessage } from '../sms/provider';
import type { Queryable } from '../store/db';
import { readDelivery, writeDelivery, type DeliveryChannel } from '../store/sent-codes';

const smtpSchema = z.strictObject({
  host: z.string(), port: z.number().int(), security: z.enum(SMTP_SECURITY), username: z.string().nullable(), from: z.string(),
});

export interface SmsSettings {
  readonly service: SmsService;
  readonly username: string;
  readonly senderNumber: string;
  readonly codeExpiryMinutes: number;
  readonly trustedDeviceHours: number;
  /** null: the provider's own. */
  readonly baseUrl: string | null;
}

const smsSchema = z.strictObject({
  service: z.enum(SMS_SERVICES), username: z.string(), senderNumber: z.string(),
  codeExpiryMinutes: z.number().int(), trustedDeviceHours: z.number().int(), baseUrl: z.string().nullable(),
});

function secretPurpose(channel: DeliveryChannel): string {
  return channel === 'smtp' ? 'crewvault smtp password' : 'crewvault sms api key';
}

/** Stored settings, parsed like anything read back; undefined when none are set. */
async function load<T>(ctx: ServerContext, db: Queryable, channel: DeliveryChannel, schema: z.ZodType<T>): Promise<{ settings: T; secret: string | null } | undefined> {
  const stored = await readDelivery(db, channel);
  if (stored === undefined) return undefined;
  const parsed = schema.safeParse(JSON.parse(stored.settings));
  if (!parsed.success) throw new CrewvaultError('INTERNAL', `the stored ${channel} settings are not valid`);
  const secret = stored.sealedSecret === null ? null : openSecret(ctx.keys, secretPurpose(channel), stored.sealedSecret);
  if (secret === undefined) throw new CrewvaultError('INTERNAL', `the stored ${channel} secret does not open with this server's key`);
  return { settings: parsed.data, secret };
}

/**
 * Owners only. That the call comes from the server's own machine is the app's check, made for
 * every route the contract marks `local` before the session is looked at (local-only.ts).
 */
function requireSettingsAccess(auth: Authenticated): void {
  if (auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only owners manage the server\'s e-mail and SMS settings');
}

function smtpView(settings: SmtpSettings, secret: string | null): NonNullable<ServerRouteOutput<'smtpGet'>['smtp']> {
  return { ...settings, passwordSet: secret !== null };
}

function smsView(settings: SmsSettings, secret: string | null): NonNullable<ServerRouteOutput<'smsGet'>['sms']> {
  return { ...settings, apiKeySet: secret !== null };
}

export async function smtpGet(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'smtpGet'>> {
  requireSettingsAccess(auth);
  const stored = await load(ctx, ctx.db, 'smtp', smtpSchema);
  return { smtp: stored === undefined ? null : smtpView(stored.settings, stored.secret) };
}

export async function smtpSet(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'smtpSet'>, source: string): Promise<ServerRouteOutput<'smtpSet'>> {
  requireSettingsAccess(auth);
  if (input.security === 'none' && !isLoopbackHost(input.host)) {
    throw new CrewvaultError('INVALID_INPUT', 'security: plain SMTP (none) is for an SMTP server on this machine only: use tls or starttls');
  }
  if (input.username === null && input.password !== undefined) throw new CrewvaultError('INVALID_INPUT', 'password: give a user name with it');
  const settings: SmtpSettings = { host: input.host, port: input.port, security: input.security, username: input.username, from: input.from };
  return ctx.db.transaction(async (tx) => {
    const before = await readDelivery(tx, 'smtp');
    const sealed = input.username === null ? null
      : input.password !== undefined ? sealSecret(ctx.keys, secretPurpose('smtp'), input.password) : before?.sealedSecret ?? null;
    await writeDelivery(tx, 'smtp', { settings: JSON.stringify(settings), sealedSecret: sealed }, ctx.now());
    await appendAudit(tx, ctx, { kind: 'settings.smtp-set', actorId: auth.user.id, source, detail: { security: input.security, passwordChanged: input.password !== undefined } });
    return { smtp: { ...settings, passwordSet: sealed !== null } };
  });
}

/** An http(s) base URL without credentials, query or fragment; plain http only to loopback. */
function checkBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CrewvaultError('INVALID_INPUT', 'baseUrl: not a URL');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const plainOk = url.protocol === 'http:' && isLoopbackHost(host);
  if (url.protocol !== 'https:' && !plainOk) throw new CrewvaultError('INVALID_INPUT', 'baseUrl: use https (plain http only to this machine)');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new CrewvaultError('INVALID_INPUT', 'baseUrl: no user, query or fragment in it');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export async function smsGet(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'smsGet'>> {
  requireSettingsAccess(auth);
  const stored = await load(ctx, ctx.db, 'sms', smsSchema);
  return { sms: stored === undefined ? null : smsView(stored.settings, stored.secret) };
}

export async function smsSet(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'smsSet'>, source: string): Promise<ServerRouteOutput<'smsSet'>> {
  requireSettingsAccess(auth);
  const settings: SmsSettings = {
    service: input.service, username: input.username, senderNumber: input.senderNumber, codeExpiryMinutes: input.codeExpiryMinutes,
    trustedDeviceHours: input.trustedDeviceHours,
    baseUrl: input.baseUrl === undefined || input.baseUrl === null || input.baseUrl === '' ? null : checkBaseUrl(input.baseUrl),
  };
  return ctx.db.transaction(async (tx) => {
    const before = await readDelivery(tx, 'sms');
    const sealed = input.apiKey !== undefined ? sealSecret(ctx.keys, secretPurpose('sms'), input.apiKey) : before?.sealedSecret ?? null;
    // Nothing is written yet: refusing here changes nothing.
    if (sealed === null) throw new CrewvaultError('INVALID_INPUT', 'apiKey: the provider\'s API key is needed the first time');
    await writeDelivery(tx, 'sms', { settings: JSON.stringify(settings), sealedSecret: sealed }, ctx.now());
    await appendAudit(tx, ctx, { kind: 'settings.sms-set', actorId: auth.user.id, source, detail: { service: input.service, apiKeyChanged: input.apiKey !== undefined } });
    return { sms: smsView(settings, sealed) };
  });
}

/** Whether the server can send e-mail (SMTP settings stored). */
export async function canSendEmail(db: Queryable): Promise<boolean> {
  return await readDelivery(db, 'smtp') !== undefined;
}

/** The SMS settings without the key (code expiry, trusted hours), or undefined when none are set. */
export async function smsSettings(ctx: ServerContext): Promise<SmsSettings | undefined> {
  return (await load(ctx, ctx.db, 'sms', smsSchema))?.settings;
}

/** Sends one e-mail with the stored settings; FORBIDDEN when there are none. */
export async function deliverEmail(ctx: ServerContext, message: MailMessage): Promise<void> {
  const stored = await load(ctx, ctx.db, 'smtp', smtpSchema);
  if (stored === undefined) throw new CrewvaultError('FORBIDDEN', 'This server cannot send e-mail: ask your administrator');
  await sendMail(stored.settings, stored.secret, message);
}

/** Sends one text message with the stored provider; FORBIDDEN when there is none. */
export async function deliverSms(ctx: ServerContext, message: SmsMessage): Promise<void> {
  const stored = await load(ctx, ctx.db, 'sms', smsSchema);
  if (stored === undefined || stored.secret === null) throw new CrewvaultError('FORBIDDEN', 'This server cannot send text messages: ask your administrator');
  const adapter = SMS_ADAPTERS[stored.settings.service];
  await adapter.send({
    username: stored.settings.username, apiKey: stored.secret, senderNumber: stored.settings.senderNumber,
    baseUrl: stored.settings.baseUrl ?? adapter.defaultBaseUrl,
  }, message);
}

/** Waits for a send and audits whether it went (`ok`, plus `detail`), then passes on its failure. */
export async function audited(ctx: ServerContext, event: AuditEvent, send: Promise<void>): Promise<void> {
  try {
    await send;
  } catch (error) {
    await recordAudit(ctx, { ...event, detail: { ...event.detail, ok: false } });
    throw error;
  }
  await recordAudit(ctx, { ...event, detail: { ...event.detail, ok: true } });
}

/** A test e-mail to `to`; audited with whether it went. */
export async function smtpTest(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'smtpTest'>, source: string): Promise<ServerRouteOutput<'smtpTest'>> {
  requireSettingsAccess(auth);
  await audited(ctx, { kind: 'settings.smtp-tested', actorId: auth.user.id, source }, deliverEmail(ctx, {
    to: input.to, subject: 'Crewvault server: test e-mail', text: 'This is a test e-mail from your Crewvault server. Its SMTP settings work.\n',
  }));
  return { sent: true };
}

/** "Test service": a test text message to `phone`; audited with whether it went. */
export async function smsTest(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'smsTest'>, source: string): Promise<ServerRouteOutput<'smsTest'>> {
  requireSettingsAccess(auth);
  await audited(ctx, { kind: 'settings.sms-tested', actorId: auth.user.id, source },
    deliverSms(ctx, { to: input.phone, text: 'Crewvault server: this is a test message. Your SMS settings work.' }));
  return { sent: true };
}
