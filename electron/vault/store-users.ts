/**
 * Shared: users and their wrapped directory key. Local (this desktop's, never shared): the
 * sign-in backoff — wrong passwords and second factors per user (sign_in_state, schema 12),
 * wrong passwords per unknown name — and the last sign-in here. Rows as stored; functions take
 * the db first.
 * Backoff counters are only ever changed from what they are inside the writing transaction;
 * an unknown name is never stored in clear.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { noteSealedReplaced, type ReadDb, type WriteDb } from './db';
import { getMeta, setMeta } from './store-meta';

export interface UserRow {
  readonly id: number;
  /** Schema 10: the global id (ids.ts) and the count of writes to the shared columns. */
  readonly uid: Buffer;
  readonly revision: number;
  readonly name: string;
  readonly role: string;
  readonly kdf: string;
  readonly public_key: Buffer;
  readonly sealed_private_key: Buffer;
  readonly created_at: number;
  readonly disabled_at: number | null;
  /** Schema 3: 1 while the user still has a one-time password from an admin. */
  readonly must_change_password: number;
  /** Schema 4: wrong passwords in a row, and when the next attempt may be made. */
  readonly failed_passwords: number;
  readonly next_attempt_at: number | null;
  /** Schema 4: when the user's authenticator was confirmed (null: no MFA). */
  readonly mfa_enabled_at: number | null;
  /** Schema 5: the last correct password, and wrong second factors in a row. */
  readonly last_sign_in_at: number | null;
  readonly failed_codes: number;
}

/** A user as stored, with this desktop's sign-in counters beside them (sign_in_state, local since schema 12). */
// The sign-in state by correlated lookups on its primary key, not a LEFT JOIN: the same values
// (at most one state row per user; none reads as 0 failures and NULL times), but SQLite ran the
// one-row LEFT JOIN at ~39 µs CPU against ~7 µs this way, and every permission check reads the
// person's row again (session.ts refreshUser: every code, lookup, list and write).
const USER = `SELECT u.*, coalesce((SELECT s.failed_passwords FROM sign_in_state s WHERE s.user_id = u.id), 0) AS failed_passwords,
  coalesce((SELECT s.failed_codes FROM sign_in_state s WHERE s.user_id = u.id), 0) AS failed_codes,
  (SELECT s.next_attempt_at FROM sign_in_state s WHERE s.user_id = u.id) AS next_attempt_at,
  (SELECT s.last_sign_in_at FROM sign_in_state s WHERE s.user_id = u.id) AS last_sign_in_at FROM users u`;

/** Names are stored in Unicode NFC (records.ts validateUserName), so one typed another way still matches. */
export function findUserByName(db: ReadDb, name: string): UserRow | undefined {
  return db.prepare<[string], UserRow>(`${USER} WHERE u.name = ?`).get(name.normalize('NFC'));
}

export function getUser(db: ReadDb, id: number): UserRow | undefined {
  return db.prepare<[number], UserRow>(`${USER} WHERE u.id = ?`).get(id);
}

export function listUsers(db: ReadDb): UserRow[] {
  return db.prepare<[], UserRow>(`${USER} ORDER BY u.id`).all();
}

export function insertUser(db: WriteDb, row: Pick<UserRow, 'uid' | 'name' | 'role' | 'kdf' | 'public_key' | 'sealed_private_key' | 'created_at'>): number {
  const result = db
    .prepare('INSERT INTO users (uid, name, role, kdf, public_key, sealed_private_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(row.uid, row.name, row.role, row.kdf, row.public_key, row.sealed_private_key, row.created_at);
  return Number(result.lastInsertRowid);
}

export function setSealedPrivateKey(db: WriteDb, userId: number, sealed: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE users SET sealed_private_key = ? WHERE id = ?').run(sealed, userId);
}

/** Whether anyone's directory key is wrapped as DIRECTORY_WRAP_ANCHORED or later (keys.ts). */
export function anyDirectoryWrapAtLeast(db: ReadDb, version: number): boolean {
  return db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM directory_keys WHERE key_version >= ?').get(version)?.n !== 0;
}

export function setUserRole(db: WriteDb, userId: number, role: string): void {
  db.prepare('UPDATE users SET role = ? WHERE id = ?').run(role, userId);
}

export function setUserDisabled(db: WriteDb, userId: number, at: number | null): void {
  db.prepare('UPDATE users SET disabled_at = ? WHERE id = ?').run(at, userId);
}

/** A new key pair and KDF for a user (an owner's password reset). */
export function replaceUserKeys(db: WriteDb, userId: number, kdf: string, publicKey: Buffer): void {
  db.prepare('UPDATE users SET kdf = ?, public_key = ? WHERE id = ?').run(kdf, publicKey, userId);
}

export function deleteDirectoryKey(db: WriteDb, userId: number): void {
  noteSealedReplaced(db);
  db.prepare('DELETE FROM directory_keys WHERE user_id = ?').run(userId);
}

export function setMustChangePassword(db: WriteDb, userId: number, must: boolean): void {
  db.prepare('UPDATE users SET must_change_password = ? WHERE id = ?').run(must ? 1 : 0, userId);
}

/** A user's new password: the same key pair, sealed under a key from new KDF settings. */
export function setUserPasswordSeal(db: WriteDb, userId: number, kdf: string, sealedPrivateKey: Buffer): void {
  noteSealedReplaced(db);
  db.prepare('UPDATE users SET kdf = ?, sealed_private_key = ?, must_change_password = 0 WHERE id = ?').run(kdf, sealedPrivateKey, userId);
}

// ---- Backoff ------------------------------------------------------------------------------
// Each function here reads the counters it changes inside the caller's write transaction
// (withWrite: BEGIN IMMEDIATE, so no other process writes in between), never from a row read
// before an await: two processes that each read "2 failures", then wrote "3", lost one
// (review #10 item 6: nine wrong codes at once raised the count by two).

/** Wrong passwords back off exponentially after three free tries, up to 15 minutes. */
export const FREE_PASSWORD_TRIES = 3;
export const MAX_BACKOFF_MS = 15 * 60_000;
/** Wrong second factors allowed in a row before each further one makes the next attempt wait. */
export const FREE_CODE_TRIES = 5;

interface Counters {
  readonly failed_passwords: number;
  readonly failed_codes: number;
  readonly next_attempt_at: number | null;
}

// Local (schema 12): the counters live in sign_in_state, one row per user made on first need.

function countersOf(db: WriteDb, userId: number): Counters {
  if (!db.prepare<[number], { id: number }>('SELECT id FROM users WHERE id = ?').get(userId)) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
  const row = db.prepare<[number], Counters>('SELECT failed_passwords, failed_codes, next_attempt_at FROM sign_in_state WHERE user_id = ?').get(userId);
  return row ?? { failed_passwords: 0, failed_codes: 0, next_attempt_at: null };
}

/** Sets some of a user's counters (the others as they are). */
function putCounters(db: WriteDb, userId: number, set: string, values: ReadonlyArray<number | null>): void {
  db.prepare('INSERT INTO sign_in_state (user_id) VALUES (?) ON CONFLICT(user_id) DO NOTHING').run(userId);
  db.prepare(`UPDATE sign_in_state SET ${set} WHERE user_id = ?`).run(...values, userId);
}

/** When this user last signed in with a right password, on this desktop. */
export function recordSignIn(db: WriteDb, userId: number, now: number): void {
  putCounters(db, userId, 'last_sign_in_at = ?', [now]);
}

/** The wait after the `failed`-th wrong attempt in a row: none while free tries are left, then
 * 1 s, doubling, up to 15 minutes. */
function waitAfter(failed: number, freeTries: number, now: number): number | undefined {
  return failed < freeTries ? undefined : now + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failed - freeTries));
}

/** A password attempt counted before it is checked: refused while a wait runs (`retryAt`), else
 * claimed, with the wait the claim itself set (null: a free try), for releasePasswordClaim. */
export type PasswordClaim = { readonly ok: true; readonly wait: number | null } | { readonly ok: false; readonly retryAt: number };

/** The claim on counters read inside the transaction that writes them. */
function claimOn(counters: Pick<Counters, 'failed_passwords' | 'next_attempt_at'> | undefined, now: number): { claim: PasswordClaim; failed: number; next: number | null } {
  const running = counters?.next_attempt_at ?? null;
  if (running !== null && now < running) return { claim: { ok: false, retryAt: running }, failed: counters?.failed_passwords ?? 0, next: running };
  const failed = (counters?.failed_passwords ?? 0) + 1;
  const wait = waitAfter(failed, FREE_PASSWORD_TRIES, now);
  return { claim: { ok: true, wait: wait ?? null }, failed, next: wait ?? running };
}

/**
 * Claims a password attempt for a user before Argon2 runs: refused while a wait runs; else
 * counted as failed now, so an attempt begun at the same moment in any process sees this one
 * (and, past the free tries, its wait) instead of all being checked at once (review #10 item 7:
 * 40 wrong passwords together were all checked, and the count ended at 1). A right password
 * takes the claim back with releasePasswordClaim.
 */
export function claimPasswordAttempt(db: WriteDb, userId: number, now: number): PasswordClaim {
  const { claim, failed, next } = claimOn(countersOf(db, userId), now);
  if (claim.ok) putCounters(db, userId, 'failed_passwords = ?, next_attempt_at = ?', [failed, next]);
  return claim;
}

/**
 * A right password: the count starts again, and the wait is lifted if it is the one this claim
 * set or is over. A wait set since by wrong codes (in another process) stays: a right password
 * must not be a way to skip the code backoff.
 */
export function releasePasswordClaim(db: WriteDb, userId: number, claim: { readonly wait: number | null }, now: number): void {
  putCounters(db, userId, 'failed_passwords = 0, next_attempt_at = CASE WHEN next_attempt_at <= ? OR next_attempt_at = ? THEN NULL ELSE next_attempt_at END', [now, claim.wait]);
}

/** A wrong password checked without a claim (re-checking it inside a session), counted on the
 * row as it is now. */
export function recordFailedPassword(db: WriteDb, row: Pick<UserRow, 'id'>, now: number): void {
  const current = countersOf(db, row.id);
  const failed = current.failed_passwords + 1;
  putCounters(db, row.id, 'failed_passwords = ?, next_attempt_at = ?', [failed, waitAfter(failed, FREE_PASSWORD_TRIES, now) ?? current.next_attempt_at]);
}

/** A wrong code, recovery code or emergency code: from the fifth in a row, the next attempt
 * (password or code) waits 1 s, 2 s, 4 s … up to 15 minutes. Only a right second factor resets it. */
export function recordFailedCode(db: WriteDb, row: Pick<UserRow, 'id'>, now: number): void {
  const current = countersOf(db, row.id);
  const failed = current.failed_codes + 1;
  putCounters(db, row.id, 'failed_codes = ?, next_attempt_at = ?', [failed, waitAfter(failed, FREE_CODE_TRIES, now) ?? current.next_attempt_at]);
}

export function clearFailedCodes(db: WriteDb, userId: number): void {
  putCounters(db, userId, 'failed_codes = 0, next_attempt_at = NULL', []);
}

export function clearFailedPasswords(db: WriteDb, userId: number): void {
  putCounters(db, userId, 'failed_passwords = 0, next_attempt_at = NULL', []);
}

// ---- Names that are no one's ----------------------------------------------------------------
// A name that is no user's is counted and made to wait exactly like a user's (schema 6), so the
// backoff does not tell who exists (review #10, low b), and it is kept only as a keyed hash.

/** meta key of this vault's random key for hashing unknown names (made at the first need). */
const UNKNOWN_NAME_KEY = 'unknown_name_key';
/** Unknown names remembered at most: past it, the one tried longest ago is forgotten. A flood of
 * made-up names (each costing its sender an Argon2 run) cannot grow the file without end; the
 * price is that after 10,000 other names, an unknown name's count starts again where a user's
 * would not. */
export const MAX_UNKNOWN_NAMES = 10_000;

/**
 * The keyed hash an unknown name is counted and audited under: HMAC-SHA256 of the name as
 * sign-in compares it (foldUserName) under a random 256-bit key kept in this vault.
 * What it protects: the file and the audit log never hold a typed name in clear — often a
 * password typed into the name box — and no table made for other vaults reverses it.
 * What it does not: the key sits in the same file, readable before anyone signs in (a failed
 * sign-in has no other key), so whoever has a copy of the file can test guessed names against a
 * hash at HMAC speed, far faster than Argon2: a password typed as a name is then only as safe
 * as it is hard to guess. It never leaves the file.
 */
export function unknownNameHash(db: WriteDb, name: string): Buffer {
  let keyHex = getMeta(db, UNKNOWN_NAME_KEY);
  if (keyHex === undefined || !/^[0-9a-f]{64}$/.test(keyHex)) {
    keyHex = randomBytes(32).toString('hex');
    setMeta(db, UNKNOWN_NAME_KEY, keyHex);
  }
  return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(foldUserName(name), 'utf8').digest();
}

/** A user name as sign-in compares it: trimmed, ASCII letters in one case (SQLite's NOCASE on
 * users.name folds only those), so "Bob" and "bob" are one name, known or not. */
export function foldUserName(name: string): string {
  return name.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** claimPasswordAttempt for a name that is no one's, by its keyed hash; never released. */
export function claimUnknownNameAttempt(db: WriteDb, nameHash: Buffer, now: number): PasswordClaim {
  const current = db.prepare<[Buffer], Pick<Counters, 'failed_passwords' | 'next_attempt_at'>>('SELECT failed_passwords, next_attempt_at FROM unknown_name_attempts WHERE name_hash = ?').get(nameHash);
  const { claim, failed, next } = claimOn(current, now);
  if (!claim.ok) return claim;
  if (!current) forgetOldestUnknownNames(db, MAX_UNKNOWN_NAMES - 1);
  db.prepare(
    `INSERT INTO unknown_name_attempts (name_hash, failed_passwords, next_attempt_at, last_attempt_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (name_hash) DO UPDATE SET failed_passwords = excluded.failed_passwords, next_attempt_at = excluded.next_attempt_at, last_attempt_at = excluded.last_attempt_at`,
  ).run(nameHash, failed, next, now);
  return claim;
}

function forgetOldestUnknownNames(db: WriteDb, keep: number): void {
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM unknown_name_attempts').get()?.n ?? 0;
  if (count <= keep) return;
  db.prepare('DELETE FROM unknown_name_attempts WHERE name_hash IN (SELECT name_hash FROM unknown_name_attempts ORDER BY last_attempt_at LIMIT ?)').run(count - keep);
}
