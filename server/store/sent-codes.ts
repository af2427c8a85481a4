/**
 * SQL for codes the server sends and what it sends them with (schema 8). Only this file reads
 * or writes `user_contacts`, `mfa_sent_codes` and `delivery_settings`. Codes arrive here as
 * HMACs and credentials sealed (server/keys.ts); nothing here sees either in the clear.
 */
import { int, text, textOrNull, type Queryable } from './db';

export type SendChannel = 'email' | 'sms';
export type DeliveryChannel = 'smtp' | 'sms';

export interface Contact {
  readonly email: string | null;
  readonly phone: string | null;
}

export async function findContact(db: Queryable, userId: string): Promise<Contact> {
  const [row] = await db.query('SELECT email, phone FROM user_contacts WHERE user_id = $1', [userId]);
  return row === undefined ? { email: null, phone: null } : { email: textOrNull(row, 'email'), phone: textOrNull(row, 'phone') };
}

export async function putContact(db: Queryable, userId: string, contact: Contact): Promise<void> {
  await db.query(
    'INSERT INTO user_contacts (user_id, email, phone) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET email = $2, phone = $3',
    [userId, contact.email, contact.phone],
  );
}

/**
 * A new code for this sign-in on this channel, replacing any before it; undefined when the
 * sign-in has already had `maxSends` (nothing is changed then).
 */
export async function putSentCode(db: Queryable, c: { sessionId: string; channel: SendChannel; hash: string; expiresAt: number; maxSends: number }): Promise<number | undefined> {
  const [row] = await db.query(
    `INSERT INTO mfa_sent_codes (session_id, channel, code_hash, expires_at, sends) VALUES ($1, $2, $3, $4, 1)
     ON CONFLICT (session_id, channel) DO UPDATE SET code_hash = $3, expires_at = $4, sends = mfa_sent_codes.sends + 1
     WHERE mfa_sent_codes.sends < $5
     RETURNING sends`,
    [c.sessionId, c.channel, c.hash, c.expiresAt, c.maxSends],
  );
  return row === undefined ? undefined : int(row, 'sends');
}

/** Takes the sign-in's code when `hash` is it (gone after this, used or late), with when it expired or expires. */
export async function takeSentCode(tx: Queryable, sessionId: string, channel: SendChannel, hash: string): Promise<{ expiresAt: number } | undefined> {
  const [row] = await tx.query('DELETE FROM mfa_sent_codes WHERE session_id = $1 AND channel = $2 AND code_hash = $3 RETURNING expires_at', [sessionId, channel, hash]);
  return row === undefined ? undefined : { expiresAt: int(row, 'expires_at') };
}

export interface StoredDelivery {
  /** JSON, parsed by its owner (server/settings/delivery.ts). */
  readonly settings: string;
  readonly sealedSecret: string | null;
}

export async function readDelivery(db: Queryable, channel: DeliveryChannel): Promise<StoredDelivery | undefined> {
  const [row] = await db.query('SELECT settings, sealed_secret FROM delivery_settings WHERE channel = $1', [channel]);
  return row === undefined ? undefined : { settings: text(row, 'settings'), sealedSecret: textOrNull(row, 'sealed_secret') };
}

export async function writeDelivery(db: Queryable, channel: DeliveryChannel, stored: StoredDelivery, now: number): Promise<void> {
  await db.query(
    `INSERT INTO delivery_settings (channel, settings, sealed_secret, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (channel) DO UPDATE SET settings = $2, sealed_secret = $3, updated_at = $4`,
    [channel, stored.settings, stored.sealedSecret, now],
  );
}
