/**
 * `crewvault login URL`, `crewvault whoami`, `crewvault logout`: this computer's session on a
 * team server. Sign-in is OPAQUE (the password never leaves this process), then the second
 * step the server asks for, then the person's key material is fetched and opened to prove the
 * server is the one that holds it. The session's tokens go to the OS keychain; which server,
 * its pinned certificate and this computer's device id go to servers.json (profiles.ts).
 *
 * A server whose certificate no trusted authority vouches for is refused with its
 * fingerprint; `--trust FINGERPRINT` (compared out of band with the administrator's) pins
 * it. The OPAQUE team-server code is loaded only when these commands run.
 * Must never: print a password, token, invite or code it was given; accept a certificate
 * the person did not compare; keep a session when the keychain cannot hold it.
 */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { printable } from '../team/printable';
import type * as SignInModule from '../team/sign-in';
import type * as TransportModule from '../team/transport';
import type { ServerTrust } from '../team/transport';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';

export const LOGIN_USAGE = 'crewvault login URL [--user NAME] [--invite -|--invite-file FILE] [--trust FINGERPRINT] [--new-server] [--code CODE|-] [--recovery-code -] [--emergency-code CODE|-]\n'
  + '  URL           https://HOST[:PORT] (http:// only to this computer)\n'
  + '  --user        your name on the server (default: the one you last used there)\n'
  + '  --invite -    register with an invite (read like a password) and choose your password;\n'
  + '  --invite-file the first owner\'s invite, from the server\'s data folder\n'
  + '  --trust       the SHA-256 fingerprint of a certificate no authority vouches for, as its\n'
  + '                administrator read it to you (openssl x509 -noout -fingerprint -sha256)\n'
  + '  --new-server  register although the server\'s OPAQUE key is not the one this computer saw\n'
  + '                there before (only when its administrator says it was set up anew)\n'
  + '  The password, and codes given as "-", are read from the terminal or the next line of stdin.';
export const WHOAMI_USAGE = 'crewvault whoami [URL] [--json]';
export const LOGOUT_USAGE = 'crewvault logout [URL] [--everywhere]';

export interface TeamModules {
  readonly transport: typeof TransportModule;
  readonly signIn: typeof SignInModule;
}

export async function load(): Promise<TeamModules> {
  const [transport, signIn] = await Promise.all([import('../team/transport'), import('../team/sign-in')]);
  return { transport, signIn };
}

/** How the server's certificate is to be trusted, deciding with the person on first use (team/sign-in.ts judges). */
export async function decideTrust(m: TeamModules, url: URL, known: ServerTrust | undefined, trustGiven: string | undefined, io: CliIo): Promise<ServerTrust> {
  const wanted = trustGiven === undefined || url.protocol === 'http:' ? undefined : m.transport.normaliseFingerprint(trustGiven);
  if (trustGiven !== undefined && url.protocol !== 'http:' && wanted === undefined) throw new UsageError('--trust takes a SHA-256 fingerprint: 64 hex digits, with or without colons');
  // The system clock, as TLS itself judges a certificate's dates (not the command's clock).
  const judged = await m.signIn.judgeCertificate(url, known, wanted, Date.now());
  if (judged.kind === 'trusted') {
    const pinned = judged.pinnedNow;
    if (pinned !== undefined) io.err(`Pinned ${url.host}'s certificate ${pinned.fingerprint256} (${pinned.subject}, valid to ${pinned.validTo.toISOString()}).\n`);
    return judged.trust;
  }
  const { presented } = judged;
  const seen = `It presents ${presented.subject}, valid to ${presented.validTo.toISOString()}, SHA-256 fingerprint\n  ${presented.fingerprint256}\n`;
  if (judged.kind === 'refused') {
    io.err(seen);
    throw judged.error;
  }
  io.err(`${url.host}'s certificate is not vouched for by an authority this computer trusts.\n${seen}Compare it with the one the server's administrator reads you, then run again with --trust FINGERPRINT.\n`);
  throw m.signIn.notTrustedYet(url);
}

export interface FactorFlags {
  readonly code?: string;
  readonly 'recovery-code'?: string;
  readonly 'emergency-code'?: string;
}

/** The second step, as the server asks for it, until it says done (each answer is team/sign-in.ts's). */
export async function secondStep(flow: SignInModule.ServerSignIn, flags: FactorFlags, io: CliIo): Promise<void> {
  const read = async (value: string | undefined, prompt: string): Promise<string | undefined> => (value === '-' ? io.readSecret(prompt) : value);
  while (flow.step !== 'done') {
    const step = flow.step;
    if (step === 'code') {
      const recovery = await read(flags['recovery-code'], 'Recovery code: ');
      const emergency = await read(flags['emergency-code'], 'Emergency code: ');
      if (recovery !== undefined) await flow.answer({ kind: 'recovery', code: recovery });
      else if (emergency !== undefined) await flow.answer({ kind: 'emergency', code: emergency });
      else await flow.answer({ kind: 'code', code: (await read(flags.code, 'Authentication code: ')) ?? await io.readSecret('Authentication code: ') });
    } else if (step === 'enrol') {
      const setup = await flow.enrolStart();
      io.err('This server requires two-step sign-in. Add this key to your authenticator app (the URI as a QR code, e.g. with "qrencode -t ansiutf8"):\n');
      io.out(`${setup.uri}\nKey: ${setup.secret}\n`);
      const done = await flow.enrolConfirm(await io.readSecret('Code from the app: '));
      io.out('Recovery codes: each works once in place of a code. Keep them safe.\n');
      for (const code of done.recoveryCodes) io.out(`${code}\n`);
    } else if (step === 'device') {
      // A device never authorised: a code goes to the person's e-mail, once.
      const destination = await flow.emailSend();
      io.err(`This computer is new to the server: a code was e-mailed to ${destination}.\n`);
      await flow.answer({ kind: 'email', code: await io.readSecret('Code from the e-mail: ') });
    } else {
      throw new CrewvaultError('MFA_REQUIRED', `the server asks for a second step this version cannot answer yet (${printable(step, 40)}): sign in from the desktop app, or update Crewvault`);
    }
  }
}

async function readInvite(values: { invite?: string; 'invite-file'?: string }, io: CliIo): Promise<string | undefined> {
  if (values.invite !== undefined && values['invite-file'] !== undefined) throw new UsageError('give --invite - or --invite-file, not both');
  if (values.invite !== undefined) {
    // An invite lets one person register: like a password, never an argument.
    if (values.invite !== '-') throw new UsageError('--invite takes only "-": the invite is then read like a password');
    return (await io.readSecret('Invite: ')).trim();
  }
  if (values['invite-file'] !== undefined) {
    const { readFileSync } = await import('node:fs');
    try {
      return readFileSync(values['invite-file'], 'utf8').trim();
    } catch {
      throw new CrewvaultError('NOT_FOUND', `cannot read the invite file ${values['invite-file']}`);
    }
  }
  return undefined;
}

async function login(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      user: { type: 'string' }, invite: { type: 'string' }, 'invite-file': { type: 'string' }, trust: { type: 'string' }, 'new-server': { type: 'boolean' },
      code: { type: 'string' }, 'recovery-code': { type: 'string' }, 'emergency-code': { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw positionals.length === 0 ? new UsageError('name the server: crewvault login https://HOST[:PORT]') : unexpectedArgument();
  const given = (['code', 'recovery-code', 'emergency-code'] as const).filter((name) => values[name] !== undefined);
  if (given.length > 1) throw new UsageError(`give only one of --${given.join(', --')}`);
  if (values['recovery-code'] !== undefined && values['recovery-code'] !== '-') throw new UsageError('--recovery-code takes only "-": the code is then read like a password');
  const m = await load();
  const url = m.transport.parseServerUrl(positionals[0] ?? '');
  const origin = url.origin;
  const place = m.signIn.serverPlace(io.env);
  const known = place.profiles.get(origin);
  const username = values.user ?? known?.username;
  if (username === undefined) throw new UsageError(`give your name on ${url.host} with --user NAME`);
  const invite = await readInvite(values, io);
  const trust = await decideTrust(m, url, known?.trust, values.trust, io);
  let password: string;
  if (invite !== undefined) {
    password = await io.readSecret(`New password for ${username} on ${url.host}: `);
    if (io.interactive && (await io.readSecret('Repeat it: ')) !== password) throw new CrewvaultError('INVALID_INPUT', 'the two passwords differ; nothing was registered');
  } else {
    password = await io.readSecret(`Password for ${username} on ${url.host}: `);
  }
  const flow = await m.signIn.ServerSignIn.begin(place, { url, trust, username, password, ...(invite === undefined ? {} : { invite }), newServer: values['new-server'] === true });
  if (flow.registered) io.err(`Registered ${printable(username)} on ${url.host}.\n`);
  await secondStep(flow, values, io);
  const { user, keyFingerprint } = await flow.finish(io.now(), (line) => io.err(`crewvault: ${line}\n`));
  io.out(`Signed in to ${origin} as ${printable(user.username)} (${user.role}).\n`);
  // The owner binding this account to a vault user is shown the key the server hands them; this
  // is the key this computer made, read to them apart from the server (#15, team join).
  if (flow.registered) io.err(`Your account's key fingerprint is ${keyFingerprint}: read it to the vault's owner when they bind you (crewvault user bind), by phone or in person, not through the server.\n`);
  return 0;
}

/** The kept session, refreshed when its access token is about to end (one refresh at a time). */
export async function keptSession(m: TeamModules, io: CliIo, urlText: string | undefined): Promise<SignInModule.KeptSession> {
  return m.signIn.keptSession(m.signIn.serverPlace(io.env), urlText === undefined ? undefined : m.transport.parseServerUrl(urlText).origin, io.now);
}

async function whoami(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length > 1) throw unexpectedArgument();
  const m = await load();
  const { client, origin } = await keptSession(m, io, positionals[0]);
  const session = await client.call('session', undefined);
  if (values.json === true) {
    io.out(`${JSON.stringify({ server: origin, user: session.user, deviceId: session.deviceId, authenticatedAt: session.authenticatedAt, secondStep: session.secondStep })}\n`);
  } else {
    io.out(`${printable(session.user.username)} (${session.user.role}) on ${origin}, signed in since ${new Date(session.authenticatedAt).toISOString()}${session.secondStep === 'done' ? '' : `; the server still asks for a second step (${session.secondStep})`}.\n`);
  }
  return 0;
}

async function logout(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { everywhere: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length > 1) throw unexpectedArgument();
  const m = await load();
  const origin = positionals[0] === undefined ? undefined : m.transport.parseServerUrl(positionals[0]).origin;
  const out = await m.signIn.signOutOfServer(m.signIn.serverPlace(io.env), origin, io.now, values.everywhere === true);
  if (out.ended === 'already') io.out(`Signed out of ${out.origin} (the session had already ended there).\n`);
  else io.out(`Signed out of ${out.origin}${out.ended > 1 ? ` (${out.ended} sessions ended)` : ''}.\n`);
  return 0;
}

export const loginCommand: CliCommand = { summary: 'sign in to a team server (register with an invite the first time)', usage: LOGIN_USAGE, run: login };
export const whoamiCommand: CliCommand = { summary: 'who you are signed in as on a team server', usage: WHOAMI_USAGE, run: whoami };
export const logoutCommand: CliCommand = { summary: 'sign out of a team server', usage: LOGOUT_USAGE, run: logout };
