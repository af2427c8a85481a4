/**
 * Automation tokens (issue #14; finPOWER's "Web Subscriber"): for a script that cannot answer a
 * second step. An owner or admin, signed in within the last 10 minutes, makes one with a name,
 * scopes (the routes it reaches: shared/api/server-contract.ts TOKEN_SCOPES), optionally the
 * vaults it is for, and an expiry of at most a year. The token (`cvt_` and 256 random bits) is
 * shown once and kept only as SHA-256. It acts as its maker, with the rights the maker has at
 * each use, so it never does more than they could; a maker who is no longer an owner or admin
 * has tokens that no longer work. Each use moves its last use (when, from where) and is audited
 * (`token.used`, at most once a minute per token); making and revoking are audited too.
 * Revoking ends it at the next request.
 *
 * Must never: accept a token on a route that names no scope of it (account, MFA and admin
 * routes name none), take one for a session or a session's token for one, or put a token in a
 * reply other than its making, a log or the audit.
 */
import {
  AUTOMATION_TOKEN_PREFIX, type AutomationTokenView, type ServerRouteInput, type ServerRouteOutput, type ServerUser, type TokenScope,
} from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit } from '../audit';
import type { ServerContext } from '../context';
import {
  claimAutomationTokenAudit, findAutomationToken, findAutomationTokenByHash, insertAutomationToken, listAutomationTokens, noteAutomationTokenUse,
  revokeAutomationToken, type AutomationTokenRow,
} from '../store/automation-tokens';
import { vaultExists } from '../store/sync';
import type { Authenticated } from './sessions';
import { hashToken, newId, newToken } from './tokens';

/** Making a token that skips the second step needs a sign-in this recent: not a session kept alive by refreshes for weeks. */
export const TOKEN_FRESH_MS = 10 * 60_000;
/** At most one `token.used` audit event per token in this long (last use is kept at every use). */
export const TOKEN_USE_AUDIT_SPACING_MS = 60_000;
const DAY_MS = 24 * 60 * 60_000;

/** What the reply to making a token says, beside it. */
export const TOKEN_WARNING = 'This token signs in without a second step (MFA): whoever holds it can do what its scopes allow until it expires or is revoked. Keep it as a secret; it is shown only now.';

/** What a token grants, as the app hands it to a route's handler. */
export interface TokenGrant {
  readonly id: string;
  readonly scopes: readonly TokenScope[];
  /** null: every vault its maker reaches. */
  readonly vaults: readonly string[] | null;
}

/** Who calls a route a token may reach: a whole session (no `token`) or a token, acting as `user`. */
export interface Caller {
  readonly user: ServerUser;
  readonly token?: TokenGrant;
  /** The session a whole session's call came with (server/auth/sessions.ts Authenticated): read again where a code is handed out. */
  readonly session?: { readonly id: string; readonly accessExpiresAt: number };
}

export interface TokenCaller extends Caller {
  readonly token: TokenGrant;
}

/** An automation token, told from a session's access token by its prefix. */
export function isAutomationToken(bearer: string | undefined): bearer is string {
  return bearer?.startsWith(AUTOMATION_TOKEN_PREFIX) === true;
}

function mayMakeTokens(role: ServerUser['role']): boolean {
  return role === 'owner' || role === 'admin';
}

/**
 * The caller behind an automation token on a route that takes `scope` (undefined: a route no
 * token reaches, FORBIDDEN before the token is even looked up). An unknown, expired or revoked
 * token is UNAUTHORIZED; a live one without the scope, or whose maker may no longer make
 * tokens, FORBIDDEN. A use is noted (last use; audited once a minute).
 */
export async function authenticateToken(ctx: ServerContext, token: string, scope: TokenScope | undefined, source: string): Promise<TokenCaller> {
  if (scope === undefined) throw new CrewvaultError('FORBIDDEN', 'An automation token does not reach this route: sign in');
  const now = ctx.now();
  const row = tokenStanding(await findAutomationTokenByHash(ctx.db, hashToken(token)), scope, now);
  if (row instanceof CrewvaultError) throw row;
  await ctx.db.transaction(async (tx) => {
    if (!await noteAutomationTokenUse(tx, row.id, now, source)) throw new CrewvaultError('UNAUTHORIZED', 'This automation token was revoked');
    if (await claimAutomationTokenAudit(tx, row.id, now, TOKEN_USE_AUDIT_SPACING_MS)) {
      await appendAudit(tx, ctx, { kind: 'token.used', actorId: row.createdBy, source, detail: { token: row.id, scope } });
    }
  });
  return {
    user: { id: row.createdBy, username: row.createdByName, role: row.createdByRole },
    token: { id: row.id, scopes: row.scopes, vaults: row.vaults },
  };
}

/**
 * Whether a token stands for a use of `scope` at `now`: its row (undefined: no such token), or the
 * refusal a request with it gets. Asked when a request arrives (authenticateToken) and again where a
 * code is handed out (server/codes/batch.ts), with the same answers.
 */
export function tokenStanding(row: AutomationTokenRow | undefined, scope: TokenScope, now: number): AutomationTokenRow | CrewvaultError {
  if (row === undefined) return new CrewvaultError('UNAUTHORIZED', 'This automation token is not valid');
  if (row.revokedAt !== null) return new CrewvaultError('UNAUTHORIZED', 'This automation token was revoked');
  if (now >= row.expiresAt) return new CrewvaultError('UNAUTHORIZED', 'This automation token has expired: make a new one');
  if (!mayMakeTokens(row.createdByRole)) return new CrewvaultError('FORBIDDEN', 'Whoever made this automation token may no longer make one: it no longer works');
  if (!row.scopes.includes(scope)) return new CrewvaultError('FORBIDDEN', `This automation token does not have the ${scope} scope`);
  return row;
}

/** For a route a token reaches, once the vault is known: a token limited to other vaults is FORBIDDEN. */
export function requireVaultInReach(caller: Caller, vault: string): void {
  const vaults = caller.token?.vaults;
  if (vaults !== undefined && vaults !== null && !vaults.includes(vault)) throw new CrewvaultError('FORBIDDEN', 'This automation token is not for this vault');
}

function view(row: AutomationTokenRow): AutomationTokenView {
  return {
    id: row.id, name: row.name, scopes: [...row.scopes], vaults: row.vaults === null ? null : [...row.vaults],
    createdBy: { id: row.createdBy, username: row.createdByName }, createdAt: row.createdAt, expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt, lastUsedFrom: row.lastUsedFrom, revokedAt: row.revokedAt,
  };
}

export async function createToken(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'tokenCreate'>, source: string): Promise<ServerRouteOutput<'tokenCreate'>> {
  if (!mayMakeTokens(auth.user.role)) throw new CrewvaultError('FORBIDDEN', 'Only owners and admins make automation tokens');
  const now = ctx.now();
  if (now - auth.session.authenticatedAt > TOKEN_FRESH_MS) throw new CrewvaultError('UNAUTHORIZED', 'Sign in again to make an automation token');
  const vaults = input.vaults === undefined ? null : [...new Set(input.vaults)];
  for (const vault of vaults ?? []) {
    if (!await vaultExists(ctx.db, vault)) throw new CrewvaultError('NOT_FOUND', 'This server holds no such vault: an owner moves it here first.');
  }
  const token = newToken('cvt');
  const id = newId();
  const expiresAt = now + input.expiresInDays * DAY_MS;
  const row = await ctx.db.transaction(async (tx) => {
    await insertAutomationToken(tx, { id, tokenHash: hashToken(token), name: input.name, createdBy: auth.user.id, scopes: input.scopes, vaults, now, expiresAt });
    await appendAudit(tx, ctx, {
      kind: 'token.created', actorId: auth.user.id, source,
      detail: { token: id, scopes: input.scopes.join(' '), vaults: vaults === null ? 'all' : vaults.join(' '), expiresAt },
    });
    return findAutomationToken(tx, id);
  });
  if (row === undefined) throw new CrewvaultError('INTERNAL', 'a token just made is not there');
  return { token, view: view(row), warning: TOKEN_WARNING };
}

export async function listTokens(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'tokensList'>> {
  if (!mayMakeTokens(auth.user.role)) throw new CrewvaultError('FORBIDDEN', 'Only owners and admins see automation tokens');
  return { tokens: (await listAutomationTokens(ctx.db, auth.user.role === 'owner')).map(view) };
}

export async function revokeToken(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'tokenRevoke'>, source: string): Promise<ServerRouteOutput<'tokenRevoke'>> {
  const row = await findAutomationToken(ctx.db, input.id);
  // A member learns nothing of which tokens exist.
  if (row === undefined || (row.createdBy !== auth.user.id && !mayMakeTokens(auth.user.role))) throw new CrewvaultError('NOT_FOUND', 'No such automation token');
  if (row.createdBy !== auth.user.id && row.createdByRole === 'owner' && auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Admins never revoke an owner\'s token');
  return ctx.db.transaction(async (tx) => {
    const revoked = await revokeAutomationToken(tx, row.id, auth.user.id, ctx.now());
    if (revoked) await appendAudit(tx, ctx, { kind: 'token.revoked', actorId: auth.user.id, subjectId: row.createdBy, source, detail: { token: row.id } });
    return { revoked };
  });
}
