/**
 * `crewvault team token create|list|revoke`: automation tokens on a team server (issue #14,
 * finPOWER's "Web Subscriber"), for scripts that cannot answer a second step. A new token is
 * printed once on stdout, alone on its line (so `… | read TOKEN` takes it), with the server's
 * warning that it skips MFA on stderr; the server keeps only its hash.
 *
 * Must never: print a token again, or put one in an error.
 */
import { parseArgs } from 'node:util';
import { TOKEN_SCOPES, type AutomationTokenView, type TokenScope } from '../../shared/api/server-contract';
import { printable } from '../team/printable';
import { unexpectedArgument, UsageError } from './io';
import { jsonLine, TEAM_OPTIONS, wholeNumber, type TeamArgs } from './team-admin';

function scopesOf(value: string | undefined): TokenScope[] {
  if (value === undefined) throw new UsageError(`give --scope ${TOKEN_SCOPES.join(',')} (one or more, comma-separated)`);
  return value.split(',').map((part) => {
    const scope = TOKEN_SCOPES.find((known) => known === part.trim());
    if (scope === undefined) throw new UsageError(`--scope takes ${TOKEN_SCOPES.join(', ')}`);
    return scope;
  });
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function tokenLine(token: AutomationTokenView, now: number): string {
  const state = token.revokedAt !== null ? `revoked ${day(token.revokedAt)}` : token.expiresAt <= now ? `expired ${day(token.expiresAt)}` : `until ${day(token.expiresAt)}`;
  const used = token.lastUsedAt === null ? 'never used' : `last used ${new Date(token.lastUsedAt).toISOString()} from ${printable(token.lastUsedFrom ?? '?', 64)}`;
  return `${token.id}  ${printable(token.name, 100)}  [${token.scopes.join(',')}]  ${token.vaults === null ? 'all vaults' : `${token.vaults.length} vault(s)`}  by ${printable(token.createdBy.username, 64)}  ${state}  ${used}\n`;
}

export async function runTokens(args: string[], { session, json, io }: TeamArgs): Promise<void> {
  const { values, positionals } = parseArgs({
    args, options: TEAM_OPTIONS.token, allowPositionals: true,
  });
  const [action, ...rest] = positionals;
  const { client } = session;
  if (action === 'create') {
    if (rest.length > 0) throw unexpectedArgument();
    if (values.name === undefined) throw new UsageError('give the token a --name (what script it is for)');
    const expiresInDays = wholeNumber(values.days, 'days');
    if (expiresInDays === undefined) throw new UsageError('give --days N: every token has an expiry');
    const made = await client.call('tokenCreate', {
      name: values.name, scopes: scopesOf(values.scope), expiresInDays, ...(values['for-vault'] === undefined ? {} : { vaults: values['for-vault'] }),
    });
    io.err(`crewvault: WARNING: ${printable(made.warning, 300)}\n`);
    io.err(`Token ${made.view.id} made; it is shown this once:\n`);
    io.out(json ? jsonLine({ token: made.token, view: made.view }) : `${made.token}\n`);
  } else if (action === 'list') {
    if (rest.length > 0) throw unexpectedArgument();
    if (values.name !== undefined || values.scope !== undefined || values['for-vault'] !== undefined || values.days !== undefined) throw new UsageError('list takes --json and --server only');
    const { tokens } = await client.call('tokensList', undefined);
    if (json) io.out(jsonLine({ tokens }));
    else if (tokens.length === 0) io.out('No automation tokens.\n');
    else for (const token of tokens) io.out(tokenLine(token, io.now()));
  } else if (action === 'revoke') {
    const [id, ...extra] = rest;
    if (id === undefined) throw new UsageError('name the token: crewvault team token revoke TOKEN-ID (see crewvault team token list)');
    if (extra.length > 0) throw unexpectedArgument();
    // A token itself given by mistake is not echoed or sent: only ids are taken.
    if (!/^[0-9a-f]{32}$/.test(id)) throw new UsageError('a token id is 32 hex digits, as crewvault team token list shows (never the token itself)');
    const { revoked } = await client.call('tokenRevoke', { id });
    io.out(json ? jsonLine({ id, revoked }) : revoked ? `Token ${id} revoked: it no longer works.\n` : `Token ${id} was already revoked.\n`);
  } else {
    throw new UsageError('token takes create, list or revoke');
  }
}
