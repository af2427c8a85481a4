/**
 * Reads of a closed vault file's group wraps, and a fresh TOTP key, for the tests where a person
 * loses or regains a group's secret key (review 13a hole 3: secret-key-lost*.test.ts). Read-only:
 * opens the file readonly and never writes; never prints a key.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { encodeSecret, type OtpParams } from '../../shared/otp';

/** A new random TOTP key (SHA-1, 6 digits, 30 s). */
export function freshTotp(): OtpParams {
  return { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 };
}

/** `user`'s wrap of group `groupId` in `file`: the group's version there and whether the wrap holds its secret key. */
export function wrapIn(file: string, user: string, groupId: number): { version: number; secret: boolean } {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare(`SELECT g.key_version AS version, gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk
      JOIN users u ON u.id = gk.user_id JOIN access_groups g ON g.id = gk.group_id WHERE u.name = ? AND gk.group_id = ?`).get(user, groupId) as { version: number; secret: number } | undefined;
    if (row === undefined) throw new Error(`${user} holds no wrap of group ${groupId}`);
    return { version: row.version, secret: row.secret === 1 };
  } finally {
    db.close();
  }
}
