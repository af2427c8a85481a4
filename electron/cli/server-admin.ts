/**
 * `crewvault server admin status|smtp|sms …`: the server's own settings, managed on the
 * server's machine (finPOWER's "Allow local access only"). It authenticates with the owner's
 * session kept by `crewvault login` to the server's loopback URL, and the key the server keeps
 * in its data folder (--data, default as `crewvault server`'s), which only someone on its machine
 * as its user can read; the server still checks the role, the key, and that the request's socket
 * comes from 127.0.0.1 or ::1 (server/settings/local-only.ts). Secrets (the SMTP password, the SMS API key) are read with
 * readSecret ("-"), never taken from an argument or the environment.
 *
 * Must never: print or put in an error a password, an API key, a token or the local admin key;
 * take a secret as an argument; send the local admin key to a server not on loopback.
 */
import { parseArgs } from 'node:util';
import { SMS_SERVICES, SMTP_SECURITY, type ServerRouteOutput } from '../../shared/api/server-contract';
import { printable } from '../team/printable';
import { unexpectedArgument, UsageError, type CliIo } from './io';
import { keptSession, load } from './login';
import { commonOptions, jsonLine, wholeNumber } from './team-admin';

type Client = Awaited<ReturnType<typeof keptSession>>['client'];

function oneOf<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T {
  const found = allowed.find((known) => known === value);
  if (found === undefined) throw new UsageError(`--${name} takes ${allowed.join(', ')}`);
  return found;
}

/** A secret option: only "-" (then read like a password), or left out. */
async function secretOption(value: string | undefined, name: string, prompt: string, io: CliIo): Promise<string | undefined> {
  if (value === undefined) return undefined;
  if (value !== '-') throw new UsageError(`--${name} takes only "-": the value is then read like a password (never an argument)`);
  const secret = await io.readSecret(prompt);
  if (secret === '') throw new UsageError(`--${name} -: nothing was read`);
  return secret;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`give --${name}`);
  return value;
}

function smtpLines(smtp: ServerRouteOutput<'smtpGet'>['smtp']): string {
  if (smtp === null) return 'SMTP: not set (the server sends no e-mail)\n';
  return `SMTP: ${printable(smtp.host)}:${smtp.port} (${smtp.security}), from ${printable(smtp.from)}`
    + `${smtp.username === null ? ', no sign-in' : `, as ${printable(smtp.username)}, password ${smtp.passwordSet ? 'set' : 'not set'}`}\n`;
}

function smsLines(sms: ServerRouteOutput<'smsGet'>['sms']): string {
  if (sms === null) return 'SMS: not set (the server sends no text messages)\n';
  return `SMS: ${sms.service} as ${printable(sms.username)}, sender ${printable(sms.senderNumber)}, API key ${sms.apiKeySet ? 'set' : 'not set'}\n`
    + `  codes live ${sms.codeExpiryMinutes} minutes; "trust this device" lasts ${sms.trustedDeviceHours} hours${sms.baseUrl === null ? '' : `; provider at ${printable(sms.baseUrl)}`}\n`;
}

async function smtp(client: Client, action: string | undefined, args: string[], json: boolean, io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      host: { type: 'string' }, port: { type: 'string' }, security: { type: 'string' }, from: { type: 'string' },
      'smtp-user': { type: 'string' }, 'no-smtp-user': { type: 'boolean' }, password: { type: 'string' }, to: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw unexpectedArgument();
  let shown: ServerRouteOutput<'smtpGet'>['smtp'];
  if (action === 'show') {
    ({ smtp: shown } = await client.call('smtpGet', undefined));
  } else if (action === 'set') {
    if (values['smtp-user'] !== undefined && values['no-smtp-user'] === true) throw new UsageError('give --smtp-user or --no-smtp-user, not both');
    if (values['no-smtp-user'] === true && values.password !== undefined) throw new UsageError('--password goes with --smtp-user');
    if (values['smtp-user'] === undefined && values['no-smtp-user'] !== true) throw new UsageError('give --smtp-user NAME, or --no-smtp-user for an SMTP server that takes mail without signing in');
    const password = await secretOption(values.password, 'password', 'SMTP password: ', io);
    ({ smtp: shown } = await client.call('smtpSet', {
      host: required(values.host, 'host'), port: wholeNumber(required(values.port, 'port'), 'port') ?? 0,
      security: oneOf(values.security, 'security', SMTP_SECURITY), from: required(values.from, 'from'),
      username: values['smtp-user'] ?? null, ...(password === undefined ? {} : { password }),
    }));
  } else if (action === 'test') {
    await client.call('smtpTest', { to: required(values.to, 'to') });
    io.out(json ? '{"sent":true}\n' : 'Test e-mail sent.\n');
    return;
  } else {
    throw new UsageError('smtp takes show, set or test');
  }
  io.out(json ? jsonLine({ smtp: shown }) : smtpLines(shown));
}

async function sms(client: Client, action: string | undefined, args: string[], json: boolean, io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      service: { type: 'string' }, 'sms-user': { type: 'string' }, 'api-key': { type: 'string' }, sender: { type: 'string' },
      'code-minutes': { type: 'string' }, 'trusted-hours': { type: 'string' }, 'base-url': { type: 'string' }, phone: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw unexpectedArgument();
  let shown: ServerRouteOutput<'smsGet'>['sms'];
  if (action === 'show') {
    ({ sms: shown } = await client.call('smsGet', undefined));
  } else if (action === 'set') {
    const service = oneOf(values.service, 'service', SMS_SERVICES);
    const username = required(values['sms-user'], 'sms-user');
    const senderNumber = required(values.sender, 'sender');
    const codeExpiryMinutes = wholeNumber(values['code-minutes'], 'code-minutes', 5) ?? 5;
    const trustedDeviceHours = wholeNumber(values['trusted-hours'], 'trusted-hours', 48) ?? 48;
    const apiKey = await secretOption(values['api-key'], 'api-key', 'SMS provider API key: ', io);
    ({ sms: shown } = await client.call('smsSet', {
      service, username, senderNumber, codeExpiryMinutes, trustedDeviceHours,
      ...(apiKey === undefined ? {} : { apiKey }), ...(values['base-url'] === undefined ? {} : { baseUrl: values['base-url'] }),
    }));
  } else if (action === 'test') {
    await client.call('smsTest', { phone: required(values.phone, 'phone') });
    io.out(json ? '{"sent":true}\n' : 'Test text message sent.\n');
    return;
  } else {
    throw new UsageError('sms takes show, set or test');
  }
  io.out(json ? jsonLine({ sms: shown }) : smsLines(shown));
}

/** Pulls `--data DIR` (the server's data folder) out of the arguments, wherever it stands. */
function dataOption(args: readonly string[]): { data: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let data: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--data') {
      data = args[i + 1];
      if (data === undefined || data.startsWith('--')) throw new UsageError('--data needs a value');
      i++;
    } else if (arg.startsWith('--data=')) data = arg.slice('--data='.length);
    else rest.push(arg);
  }
  return { data, rest };
}

export async function runServerAdmin(args: string[], io: CliIo): Promise<number> {
  const { data, rest: others } = dataOption(args);
  const { server, json, rest } = commonOptions(others);
  const [what, action, ...more] = rest;
  if (what !== 'status' && what !== 'smtp' && what !== 'sms') throw new UsageError('server admin takes status, smtp or sms');
  if (what === 'status' && action !== undefined) throw unexpectedArgument();
  const m = await load();
  const { client, origin } = await keptSession(m, io, server);
  // The server's machine is proved by reading its data folder's key (server/settings/local-only.ts).
  // Only to a loopback URL: the key never goes to another machine (one run --allow-remote-admin needs none).
  const { isLoopbackHost } = await import('../../server/listen');
  if (isLoopbackHost(new URL(origin).hostname.replace(/^\[(.*)\]$/, '$1'))) {
    const { defaultServerDataDir } = await import('../../server/main');
    const { readLocalAdminKey } = await import('../../server/settings/local-only');
    client.localAdminKey = readLocalAdminKey(data ?? defaultServerDataDir(io.env));
  }
  if (what === 'status') {
    const status = await client.call('serverStatus', undefined);
    io.out(json ? jsonLine({ server: origin, ...status })
      : `Server ${origin}: version ${printable(status.version)}, schema ${status.schema}\n`
        + `  database: ${status.database === 'pglite' ? 'PGlite (embedded PostgreSQL)' : 'PostgreSQL'}\n`
        + `  listening on ${printable(status.listen)}, TLS ${status.tls ? 'on' : 'off'}\n`
        + `  server settings from this machine only: ${status.localAdminOnly ? 'on' : 'OFF (--allow-remote-admin)'}\n`);
  } else if (what === 'smtp') {
    await smtp(client, action, more, json, io);
  } else {
    await sms(client, action, more, json, io);
  }
  return 0;
}
