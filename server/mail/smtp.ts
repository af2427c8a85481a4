/**
 * Sends one e-mail through the SMTP server the server's owner configured (nodemailer):
 * TLS from the start, STARTTLS required, or plain only to an SMTP server on loopback
 * (server/settings/delivery.ts refuses plain elsewhere), certificates checked.
 *
 * Must never: log the password or a message's text (it carries a code), or pass the SMTP
 * server's own words on in an error (they may quote what was sent): a failure is one line
 * with nodemailer's error code.
 */
import nodemailer from 'nodemailer';
import type { SMTP_SECURITY } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly security: (typeof SMTP_SECURITY)[number];
  /** null: the SMTP server takes mail without signing in (a relay on the same network). */
  readonly username: string | null;
  /** The sender address. */
  readonly from: string;
}

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** nodemailer's own code for a failure (EAUTH, ECONNECTION, ETIMEDOUT…), never its message. */
function failureCode(error: unknown): string {
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : '';
  return /^E[A-Z]{2,20}$/.test(code) ? code : 'EMAIL';
}

export async function sendMail(settings: SmtpSettings, password: string | null, message: MailMessage): Promise<void> {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    auth: settings.username === null ? undefined : { user: settings.username, pass: password ?? '' },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    logger: false,
    debug: false,
  });
  try {
    await transport.sendMail({ from: settings.from, to: message.to, subject: message.subject, text: message.text });
  } catch (error) {
    throw new CrewvaultError('BUSY', `The e-mail could not be sent (${failureCode(error)}): check the server's SMTP settings`);
  } finally {
    transport.close();
  }
}
