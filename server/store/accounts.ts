/**
 * SQL for accounts and invites (schema 1). Only this file reads or writes `users` and
 * `invites`. A user row holds the OPAQUE registration record and nothing else about the
 * password; an invite row holds a SHA-256 of the invite code.
 */
import type { ServerRole } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { int, text, textOrNull, type Queryable, type Row, type Transaction } from './db';

export interface UserRow {
  readonly id: string;
  readonly username: string;
  readonly role: ServerRole;
  readonly registrationRecord: string;
  readonly passwordChangedAt: number;
}

export interface InviteRow {
  readonly userId: string;
  /** null: the person chooses their name (the first owner's invite). */
  readonly usernameKey: string | null;
  readonly role: ServerRole;
}

/** A users row's `role`, checked (a stray value is an INTERNAL error, never taken as some role). */
export function role(row: Row): ServerRole {
  const value = text(row, 'role');
  if (value !== 'owner' && value !== 'admin' && value !== 'member') throw new CrewvaultError('INTERNAL', 'unknown role in users');
  return value;
}

function toUser(row: Row): UserRow {
  return {
    id: text(row, 'id'),
    username: text(row, 'username'),
    role: role(row),
    registrationRecord: text(row, 'registration_record'),
    passwordChangedAt: int(row, 'password_changed_at'),
  };
}

const USER_COLUMNS = 'id, username, role, registration_record, password_changed_at';

export async function findUserByKey(db: Queryable, usernameKey: string): Promise<UserRow | undefined> {
  const [row] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE username_key = $1`, [usernameKey]);
  return row === undefined ? undefined : toUser(row);
}

/**
 * An account read under a share lock held until the transaction ends: a password change (which
 * updates this row, then ends every attempt and session) waits for the transaction, or has
 * committed before it and is what it reads (login.ts). By its name key (a login start), or as
 * the account a login attempt is for (a finish): one statement either way, whether or not there
 * is such an account, so the time taken says nothing of it.
 */
export async function findUserSharing(tx: Transaction, by: { readonly key: string } | { readonly attemptId: string }): Promise<UserRow | undefined> {
  const [row] = 'key' in by
    ? await tx.query(`SELECT ${USER_COLUMNS} FROM users WHERE username_key = $1 FOR SHARE`, [by.key])
    : await tx.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM login_attempts WHERE id = $1) FOR SHARE`, [by.attemptId]);
  return row === undefined ? undefined : toUser(row);
}

export async function findUserById(db: Queryable, id: string): Promise<UserRow | undefined> {
  const [row] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  return row === undefined ? undefined : toUser(row);
}

export async function countUsers(db: Queryable): Promise<number> {
  const [row] = await db.query('SELECT count(*) AS n FROM users');
  return row === undefined ? 0 : int(row, 'n');
}

export async function insertUser(db: Queryable, user: { id: string; username: string; usernameKey: string; role: ServerRole; registrationRecord: string; sealedKeys: string; now: number }): Promise<void> {
  await db.query(
    'INSERT INTO users (id, username, username_key, role, registration_record, sealed_keys, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)',
    [user.id, user.username, user.usernameKey, user.role, user.registrationRecord, user.sealedKeys, user.now],
  );
}

/** A new password: the new record and the keys sealed under the new export key, together. */
export async function replaceRegistrationRecord(db: Queryable, userId: string, record: string, sealedKeys: string, now: number): Promise<boolean> {
  const rows = await db.query('UPDATE users SET registration_record = $2, sealed_keys = $3, password_changed_at = $4 WHERE id = $1 RETURNING id', [userId, record, sealedKeys, now]);
  return rows.length === 1;
}

export async function findSealedKeys(db: Queryable, userId: string): Promise<string | null> {
  const [row] = await db.query('SELECT sealed_keys FROM users WHERE id = $1', [userId]);
  return row === undefined ? null : textOrNull(row, 'sealed_keys');
}

/**
 * Sets an account's public key where none is set yet; true when it now holds `publicKey` (set
 * here, or the same already), false when it holds another (keys are not replaced this way).
 */
export async function publishPublicKey(db: Queryable, userId: string, publicKey: string): Promise<boolean> {
  await db.query('UPDATE users SET public_key = $2 WHERE id = $1 AND public_key IS NULL', [userId, publicKey]);
  const [row] = await db.query('SELECT public_key FROM users WHERE id = $1', [userId]);
  return row !== undefined && textOrNull(row, 'public_key') === publicKey;
}

/** An account's name and published public key (null: not published yet), or undefined for no such account. */
export async function findPublicKey(db: Queryable, userId: string): Promise<{ readonly username: string; readonly role: ServerRole; readonly publicKey: string | null } | undefined> {
  const [row] = await db.query('SELECT username, role, public_key FROM users WHERE id = $1', [userId]);
  return row === undefined ? undefined : { username: text(row, 'username'), role: role(row), publicKey: textOrNull(row, 'public_key') };
}

export async function insertInvite(db: Queryable, invite: { codeHash: string; userId: string; usernameKey: string | null; role: ServerRole; createdBy: string | null; expiresAt: number }): Promise<void> {
  await db.query(
    'INSERT INTO invites (code_hash, user_id, username_key, role, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [invite.codeHash, invite.userId, invite.usernameKey, invite.role, invite.createdBy, invite.expiresAt],
  );
}

function toInvite(row: Row): InviteRow {
  return { userId: text(row, 'user_id'), usernameKey: textOrNull(row, 'username_key'), role: role(row) };
}

export async function findInvite(db: Queryable, codeHash: string, now: number): Promise<InviteRow | undefined> {
  const [row] = await db.query('SELECT user_id, username_key, role FROM invites WHERE code_hash = $1 AND expires_at > $2', [codeHash, now]);
  return row === undefined ? undefined : toInvite(row);
}

/** Removes and returns a live invite: two registrations racing on one invite get one row. */
export async function takeInvite(db: Queryable, codeHash: string, now: number): Promise<InviteRow | undefined> {
  const [row] = await db.query('DELETE FROM invites WHERE code_hash = $1 AND expires_at > $2 RETURNING user_id, username_key, role', [codeHash, now]);
  return row === undefined ? undefined : toInvite(row);
}

/** An invite for a name already invited or registered makes no sense: ALREADY_EXISTS is the caller's. */
export async function nameIsTaken(db: Queryable, usernameKey: string, now: number): Promise<boolean> {
  const rows = await db.query(
    'SELECT 1 FROM users WHERE username_key = $1 UNION ALL SELECT 1 FROM invites WHERE username_key = $1 AND expires_at > $2',
    [usernameKey, now],
  );
  return rows.length > 0;
}

/** The server's own invites (created by nobody): the first owner's, replaced at each start. */
export async function deleteServerInvites(db: Queryable): Promise<void> {
  await db.query('DELETE FROM invites WHERE created_by IS NULL');
}
