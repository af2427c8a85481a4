/**
 * SQL for automation tokens (schema 12). Only this file reads or writes `automation_tokens`.
 * Tokens arrive here already hashed (server/auth/tokens.ts): nothing here sees one in the clear.
 */
import { TOKEN_SCOPES, type ServerRole, type TokenScope } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { int, text, textOrNull, type Queryable, type Row } from './db';

export interface AutomationTokenRow {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly TokenScope[];
  /** null: every vault its maker reaches. */
  readonly vaults: readonly string[] | null;
  readonly createdBy: string;
  readonly createdByName: string;
  /** The maker's role now (a token acts as its maker, with the rights they have today). */
  readonly createdByRole: ServerRole;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly lastUsedAt: number | null;
  readonly lastUsedFrom: string | null;
  readonly revokedAt: number | null;
}

function strings(row: Row, column: string): string[] {
  const value = row[column];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new CrewvaultError('INTERNAL', `column ${column} is not a text array`);
  return value;
}

function isScope(value: string): value is TokenScope {
  return (TOKEN_SCOPES as readonly string[]).includes(value);
}

function role(row: Row): ServerRole {
  const value = text(row, 'created_by_role');
  if (value !== 'owner' && value !== 'admin' && value !== 'member') throw new CrewvaultError('INTERNAL', 'unknown role in users');
  return value;
}

function intOrNull(row: Row, column: string): number | null {
  return row[column] === null ? null : int(row, column);
}

export function toToken(row: Row): AutomationTokenRow {
  // A scope this build does not know (written by a newer server) grants nothing here.
  const scopes = strings(row, 'scopes').filter(isScope);
  return {
    id: text(row, 'id'), name: text(row, 'name'), scopes, vaults: row.vaults === null ? null : strings(row, 'vaults'),
    createdBy: text(row, 'created_by'), createdByName: text(row, 'created_by_name'), createdByRole: role(row),
    createdAt: int(row, 'created_at'), expiresAt: int(row, 'expires_at'),
    lastUsedAt: intOrNull(row, 'last_used_at'), lastUsedFrom: textOrNull(row, 'last_used_from'), revokedAt: intOrNull(row, 'revoked_at'),
  };
}

const SELECT_TOKENS = `SELECT t.id, t.name, t.scopes, t.vaults, t.created_by, u.username AS created_by_name, u.role AS created_by_role,
  t.created_at, t.expires_at, t.last_used_at, t.last_used_from, t.revoked_at
  FROM automation_tokens t JOIN users u ON u.id = t.created_by`;

/**
 * The rows of these tokens (ids in `idsParam`, a text[] parameter), held FOR SHARE until the
 * transaction ends: a revocation waits for it, and one committed before it is read. For a codes
 * batch's statement (store/codes.ts holdVaultsAndAskers), which reads them again where it hands
 * codes out; its rows are read with toToken.
 */
export function tokensHeldSql(idsParam: string): string {
  return `${SELECT_TOKENS} WHERE t.id = ANY(${idsParam}::text[]) ORDER BY t.id FOR SHARE OF t`;
}

export interface NewAutomationToken {
  readonly id: string;
  readonly tokenHash: string;
  readonly name: string;
  readonly createdBy: string;
  readonly scopes: readonly TokenScope[];
  readonly vaults: readonly string[] | null;
  readonly now: number;
  readonly expiresAt: number;
}

export async function insertAutomationToken(db: Queryable, t: NewAutomationToken): Promise<void> {
  await db.query(
    'INSERT INTO automation_tokens (id, token_hash, name, created_by, scopes, vaults, created_at, expires_at) VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8)',
    [t.id, t.tokenHash, t.name, t.createdBy, [...t.scopes], t.vaults === null ? null : [...t.vaults], t.now, t.expiresAt],
  );
}

export async function findAutomationTokenByHash(db: Queryable, tokenHash: string): Promise<AutomationTokenRow | undefined> {
  const [row] = await db.query(`${SELECT_TOKENS} WHERE t.token_hash = $1`, [tokenHash]);
  return row === undefined ? undefined : toToken(row);
}

export async function findAutomationToken(db: Queryable, id: string): Promise<AutomationTokenRow | undefined> {
  const [row] = await db.query(`${SELECT_TOKENS} WHERE t.id = $1`, [id]);
  return row === undefined ? undefined : toToken(row);
}

/** Newest first; `withOwners` false leaves out tokens made by owners (an admin's list). */
export async function listAutomationTokens(db: Queryable, withOwners: boolean): Promise<AutomationTokenRow[]> {
  const rows = await db.query(`${SELECT_TOKENS} WHERE $1::boolean OR u.role <> 'owner' ORDER BY t.created_at DESC, t.id`, [withOwners]);
  return rows.map(toToken);
}

/**
 * A use, now: last used moves, but only while the token is live (a revocation or expiry that
 * landed since it was read wins). Returns whether it was live.
 */
export async function noteAutomationTokenUse(db: Queryable, id: string, now: number, source: string): Promise<boolean> {
  const rows = await db.query(
    'UPDATE automation_tokens SET last_used_at = $2, last_used_from = $3 WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id',
    [id, now, source],
  );
  return rows.length === 1;
}

/**
 * Whether this use is the one to audit: none audited in the last `spacingMs`. One statement, so
 * of two uses at once only one claims it (the second re-reads the row once the first commits).
 */
export async function claimAutomationTokenAudit(db: Queryable, id: string, now: number, spacingMs: number): Promise<boolean> {
  const rows = await db.query(
    'UPDATE automation_tokens SET used_audited_at = $2 WHERE id = $1 AND (used_audited_at IS NULL OR used_audited_at <= $2 - $3::bigint) RETURNING id',
    [id, now, spacingMs],
  );
  return rows.length === 1;
}

/** Revokes a live token (true), or does nothing when it was revoked already (false). */
export async function revokeAutomationToken(db: Queryable, id: string, by: string, now: number): Promise<boolean> {
  const rows = await db.query('UPDATE automation_tokens SET revoked_at = $3, revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id, by, now]);
  return rows.length === 1;
}
