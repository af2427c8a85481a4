/**
 * `crewvault team token|mfa|devices|forget …`: a team server's admin acts from the CLI,
 * with the session `crewvault login` kept (the server decides who may do what: roles, the
 * separate mfa_reset permission, fresh proof). The subcommands live in team-tokens.ts and
 * team-mfa.ts; this file dispatches, reads the options every one takes (--server, --json) and
 * turns a user name into the id the server acts on.
 *
 * The team-server client is loaded only when these commands run. Must never: print a
 * token other than the one just made (once), or take a secret or a code as a plain argument
 * where "-" can read it.
 */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { publicKeyFingerprint } from '../team/account-keys';
import { printable } from '../team/printable';
import { UsageError, type CliCommand, type CliIo } from './io';
import { keptSession, load } from './login';
import { TEAM_SUMMARY, TEAM_USAGE } from './team-usage';

/**
 * `--json` output: one line of JSON whose every control, format (bidi override), private-use,
 * unassigned or line-separator character is written as a \uXXXX escape. JSON.stringify escapes only
 * C0 controls; a name the server sends could otherwise carry an 8-bit CSI or a right-to-left
 * override to the terminal. The parsed value is the same.
 */
export function jsonLine(value: unknown): string {
  const escaped = JSON.stringify(value).replace(/[\p{C}\u2028\u2029]/gu, (char) => {
    // One escape per UTF-16 unit, so a character past U+FFFF becomes its surrogate pair.
    let units = '';
    for (let i = 0; i < char.length; i++) units += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return units;
  });
  return `${escaped}\n`;
}

/** A whole number option within bounds, or a usage error naming it. */
export function wholeNumber(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,9}$/.test(value)) throw new UsageError(`--${name} takes a whole number`);
  return Number(value);
}

/** Pulls `--server URL` and `--json` out of the arguments, wherever they stand; the rest is the subcommand's. */
export function commonOptions(args: readonly string[]): { server: string | undefined; json: boolean; rest: string[] } {
  const rest: string[] = [];
  let server: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json') json = true;
    else if (arg === '--server') {
      server = args[i + 1];
      if (server === undefined || server.startsWith('--')) throw new UsageError('--server needs a value');
      i++;
    } else if (arg.startsWith('--server=')) server = arg.slice('--server='.length);
    else rest.push(arg);
  }
  return { server, json, rest };
}

/**
 * The options each subcommand takes (besides --server and --json), read by the subcommand and
 * checked here before any session is: a mistyped option is a usage mistake in one line, as for
 * every other command, whether or not this computer is signed in to a server.
 */
export const TEAM_OPTIONS = {
  token: { name: { type: 'string' }, scope: { type: 'string' }, 'for-vault': { type: 'string', multiple: true }, days: { type: 'string' } },
  mfa: { code: { type: 'string' }, scope: { type: 'string' }, idle: { type: 'string' } },
  devices: {},
  forget: { user: { type: 'string' } },
  key: {},
} as const;

export type Session = Awaited<ReturnType<typeof keptSession>>;

export interface TeamArgs {
  readonly session: Session;
  readonly json: boolean;
  readonly io: CliIo;
}

/** The user id of `name`: a 32-hex id as it is, else a name looked up in the MFA list (owners and admins; admins see no owner). */
export async function userIdOf(session: Session, name: string): Promise<{ id: string; username: string }> {
  // An id goes to the server as it is: the server says whether it may be acted on.
  if (/^[0-9a-f]{32}$/.test(name)) return { id: name, username: name };
  const { users } = await session.client.call('adminMfaList', undefined);
  const key = name.trim().normalize('NFC').toLowerCase();
  const found = users.find((user) => user.username.normalize('NFC').toLowerCase() === key);
  // Admins do not see owners: to them an owner's name is as unknown as a name nobody has.
  if (found === undefined) throw new CrewvaultError('NOT_FOUND', 'no such user on the server (or not one you administer): see crewvault team mfa list');
  return { id: found.userId, username: found.username };
}

/**
 * `--code -`: a second step done now, so an act that needs fresh proof has it. Only "-": a
 * code as an argument is in ps and the shell's history while it is still good, so it is
 * refused before anything is sent, and not echoed.
 */
export async function freshCode(session: Session, code: string | undefined, io: CliIo): Promise<void> {
  if (code === undefined) return;
  if (code !== '-') throw new UsageError('--code takes only "-": the code is then read like a password (never an argument)');
  const typed = await io.readSecret('Authentication code: ');
  if (typed === '') throw new UsageError('--code -: nothing was read');
  await session.client.call('mfaVerify', { code: typed });
}

/**
 * `team key USER`: the public key the server holds for USER's account, by its fingerprint (#15,
 * team join). Only a fingerprint the person read out themselves makes it theirs: the server
 * could hand over a key of its own.
 */
async function accountKey(args: readonly string[], { session, json, io }: TeamArgs): Promise<void> {
  if (args.length !== 1 || args[0] === undefined) throw new UsageError('team key takes one USER');
  const { id } = await userIdOf(session, args[0]);
  const found = await session.client.call('accountPublicKey', { userId: id });
  if (found.publicKey === null) throw new CrewvaultError('NOT_FOUND', `${printable(found.username, 64)} has not signed in since the server began keeping account keys: they sign in once with crewvault login`);
  const fingerprint = publicKeyFingerprint(Buffer.from(found.publicKey, 'base64url'));
  if (json) io.out(jsonLine({ userId: found.userId, username: found.username, publicKey: found.publicKey, fingerprint }));
  else io.out(`${printable(found.username, 64)}'s account key fingerprint: ${fingerprint}\n`);
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { server, json, rest } = commonOptions(args);
  const [what, ...more] = rest;
  if (what !== 'token' && what !== 'mfa' && what !== 'devices' && what !== 'forget' && what !== 'key') throw new UsageError('team takes token, mfa, devices, forget or key');
  parseArgs({ args: more, options: TEAM_OPTIONS[what], allowPositionals: true });
  const m = await load();
  const session = await keptSession(m, io, server);
  const context: TeamArgs = { session, json, io };
  if (what === 'key') await accountKey(more, context);
  else if (what === 'token') await (await import('./team-tokens')).runTokens(more, context);
  else await (await import('./team-mfa')).runTeamMfa(what, more, context);
  return 0;
}

export const teamCommand: CliCommand = { summary: TEAM_SUMMARY, usage: TEAM_USAGE, run };
