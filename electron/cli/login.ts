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
import type { SecondStep, SessionTokens } from '../../shared/api/server-contract';
import { CrewvaultError, isCrewvaultError } from '../../shared/errors';
import { keychainDeviceStore } from '../devices';
import type * as ClientModule from '../team/client';
import { printable } from '../team/printable';
import type * as ProfilesModule from '../team/profiles';
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

const SKEW_MS = 30_000;

export interface TeamModules {
  readonly transport: typeof TransportModule;
  readonly client: typeof ClientModule;
  readonly profiles: typeof ProfilesModule;
}

export async function load(): Promise<TeamModules> {
  const [transport, client, profiles] = await Promise.all([import('../team/transport'), import('../team/client'), import('../team/profiles')]);
  return { transport, client, profiles };
}

function keeperFor(m: TeamModules, io: CliIo): InstanceType<TeamModules['profiles']['SessionKeeper']> {
  return new m.profiles.SessionKeeper(keychainDeviceStore(io.env.CREWVAULT_KEYCHAIN_SERVICE || m.profiles.SERVER_KEYCHAIN_SERVICE));
}

/** How the server's certificate is to be trusted, deciding with the person on first use. */
async function decideTrust(m: TeamModules, url: URL, known: ServerTrust | undefined, trustGiven: string | undefined, io: CliIo): Promise<ServerTrust> {
  if (url.protocol === 'http:') return { kind: 'loopback' };
  const wanted = trustGiven === undefined ? undefined : m.transport.normaliseFingerprint(trustGiven);
  if (trustGiven !== undefined && wanted === undefined) throw new UsageError('--trust takes a SHA-256 fingerprint: 64 hex digits, with or without colons');
  if (known !== undefined && known.kind !== 'loopback' && wanted === undefined) return known;
  const presented = await m.transport.presentedCertificate(url);
  if (presented.vouched) return { kind: 'authority' };
  const validTo = presented.validTo.toISOString();
  const seen = `It presents ${presented.subject}, valid to ${validTo}, SHA-256 fingerprint\n  ${presented.fingerprint256}\n`;
  // The system clock, as TLS itself judges a certificate's dates (not the command's clock).
  const now = Date.now();
  if (presented.validTo.getTime() < now || presented.validFrom.getTime() > now) {
    // Pinning one that is out of date would only turn into a false "changed" alarm later.
    io.err(seen);
    throw new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate is ${presented.validTo.getTime() < now ? 'past its end date' : 'not valid yet'}: nothing was sent or pinned. Its administrator renews it first`);
  }
  if (wanted === presented.fingerprint256) {
    io.err(`Pinned ${url.host}'s certificate ${presented.fingerprint256} (${presented.subject}, valid to ${validTo}).\n`);
    return { kind: 'pinned', pin: { fingerprint256: presented.fingerprint256, pem: presented.pem } };
  }
  if (wanted !== undefined) {
    io.err(seen);
    throw new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate does not have the fingerprint given with --trust: nothing was sent`);
  }
  io.err(`${url.host}'s certificate is not vouched for by an authority this computer trusts.\n${seen}Compare it with the one the server's administrator reads you, then run again with --trust FINGERPRINT.\n`);
  throw new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate is not trusted yet: nothing was sent`);
}

interface FactorFlags {
  readonly code?: string;
  readonly 'recovery-code'?: string;
  readonly 'emergency-code'?: string;
}

/** The second step, as the server asks for it, until it says done. */
async function secondStep(client: InstanceType<TeamModules['client']['TeamClient']>, first: SecondStep, flags: FactorFlags, io: CliIo): Promise<void> {
  let step = first;
  const read = async (value: string | undefined, prompt: string): Promise<string | undefined> => (value === '-' ? io.readSecret(prompt) : value);
  for (let asked = 0; step !== 'done'; asked++) {
    // An authenticator's code, then this device's e-mailed one: a few steps at most, never a loop.
    if (asked >= 4) throw new CrewvaultError('MFA_REQUIRED', 'the server keeps asking for another step: sign in again');
    if (step === 'code') {
      const recovery = await read(flags['recovery-code'], 'Recovery code: ');
      const emergency = await read(flags['emergency-code'], 'Emergency code: ');
      if (recovery !== undefined) step = (await client.call('mfaRecovery', { code: recovery })).secondStep;
      else if (emergency !== undefined) step = (await client.call('mfaEmergency', { code: emergency })).secondStep;
      else step = (await client.call('mfaVerify', { code: (await read(flags.code, 'Authentication code: ')) ?? await io.readSecret('Authentication code: ') })).secondStep;
    } else if (step === 'enrol') {
      const setup = await client.call('mfaEnrolStart', {});
      // Printed as given only when it is what an authenticator takes: no escape sequence rides along.
      if (!/^otpauth:\/\/totp\/[\x21-\x7e]{1,512}$/.test(setup.uri) || !/^[A-Z2-7]{16,128}=*$/.test(setup.secret.replace(/ /g, ''))) {
        throw new CrewvaultError('SERVER_UNREACHABLE', 'the server offered an authenticator key this client does not take: nothing was set up');
      }
      io.err('This server requires two-step sign-in. Add this key to your authenticator app (the URI as a QR code, e.g. with "qrencode -t ansiutf8"):\n');
      io.out(`${setup.uri}\nKey: ${setup.secret.replace(/ /g, '').replace(/(.{4})/g, '$1 ').trim()}\n`);
      const done = await client.call('mfaEnrolConfirm', { code: await io.readSecret('Code from the app: ') });
      io.out('Recovery codes: each works once in place of a code. Keep them safe.\n');
      for (const code of done.recoveryCodes) io.out(`${printable(code, 40)}\n`);
      step = done.secondStep;
    } else if (step === 'device') {
      // A device never authorised: a code goes to the person's e-mail, once.
      const sent = await client.call('mfaEmailSend', {});
      io.err(`This computer is new to the server: a code was e-mailed to ${printable(sent.destination, 120)}.\n`);
      step = (await client.call('mfaEmail', { code: await io.readSecret('Code from the e-mail: ') })).secondStep;
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
  const profiles = new m.profiles.ServerProfiles(m.profiles.defaultConfigDir(io.env));
  const known = profiles.get(origin);
  const username = values.user ?? known?.username;
  if (username === undefined) throw new UsageError(`give your name on ${url.host} with --user NAME`);
  const invite = await readInvite(values, io);
  const trust = await decideTrust(m, url, known?.trust, values.trust, io);
  const client = new m.client.TeamClient(url, trust, profiles.deviceIdFor(origin));

  // The server's OPAQUE key as this computer first saw it there (per server, whoever signed in).
  const knownServerKey = values['new-server'] === true ? undefined : known?.serverKey;
  let password: string;
  if (invite !== undefined) {
    password = await io.readSecret(`New password for ${username} on ${url.host}: `);
    if (io.interactive && (await io.readSecret('Repeat it: ')) !== password) throw new CrewvaultError('INVALID_INPUT', 'the two passwords differ; nothing was registered');
    await client.register(invite, username, password, knownServerKey);
    io.err(`Registered ${printable(username)} on ${url.host}.\n`);
  } else {
    password = await io.readSecret(`Password for ${username} on ${url.host}: `);
  }
  const keeper = keeperFor(m, io);
  // This computer proves it is the device the server authorised with the token it was given (not its id alone).
  const deviceToken = await keeper.deviceToken(origin).catch(() => null);
  const attempt = await client.login(username, password, deviceToken ?? undefined);
  if (attempt.deviceToken !== undefined) await keeper.setDeviceToken(origin, attempt.deviceToken).catch(() => undefined);
  await secondStep(client, attempt.secondStep, values, io);
  // The person's key material opens with this sign-in: the server is the one holding it.
  await client.accountKeys(attempt.exportKey);
  const tokens = client.tokens;
  if (tokens === undefined) throw new CrewvaultError('INTERNAL', 'signed in without tokens');
  // One session per server on this computer: the one it replaces (this person's earlier one, or
  // whoever signed in here before) ends on the server too, not only in the keychain.
  if (known !== undefined) await endKeptSession(m, keeper, origin, known, io);
  try {
    await keeper.set(origin, attempt.user.username, tokens);
  } catch {
    await client.call('signOut', {}).catch(() => undefined);
    throw new CrewvaultError('LOCKED', 'the OS keychain is not available to keep the session (on Linux: a Secret Service such as gnome-keyring): signed out again');
  }
  profiles.save(origin, {
    username: attempt.user.username, userId: attempt.user.id, deviceId: client.deviceId, trust, serverKey: attempt.serverKey, signedInAt: io.now(),
  });
  io.out(`Signed in to ${origin} as ${printable(attempt.user.username)} (${attempt.user.role}).\n`);
  return 0;
}

/**
 * Ends a session this computer kept for `profile` on `origin`: on the server when it answers
 * (best effort: the tokens go from the keychain whatever it says), then here. Says so when the
 * server could not be told, since the session then lives on there until it expires.
 */
async function endKeptSession(m: TeamModules, keeper: ReturnType<typeof keeperFor>, origin: string, profile: ProfilesModule.ServerProfile, io: CliIo): Promise<boolean> {
  const kept = await keeper.get(origin, profile.username).catch(() => undefined);
  if (kept === undefined) return true;
  let told = false;
  try {
    const client = new m.client.TeamClient(new URL(origin), profile.trust, profile.deviceId);
    client.tokens = kept.accessExpiresAt > io.now() ? kept : await client.refresh(kept);
    await client.call('signOut', {});
    told = true;
  } catch {
    io.err(`crewvault: could not tell ${origin} to end ${printable(profile.username)}'s earlier session; it ends there when it expires.\n`);
  } finally {
    await keeper.remove(origin, profile.username);
  }
  return told;
}

/** The kept session, refreshed when its access token is about to end (one refresh at a time). */
export async function keptSession(m: TeamModules, io: CliIo, urlText: string | undefined): Promise<{ client: InstanceType<TeamModules['client']['TeamClient']>; origin: string; username: string; keeper: ReturnType<typeof keeperFor>; profiles: InstanceType<TeamModules['profiles']['ServerProfiles']> }> {
  const profiles = new m.profiles.ServerProfiles(m.profiles.defaultConfigDir(io.env));
  const { origin, profile } = profiles.resolve(urlText === undefined ? undefined : m.transport.parseServerUrl(urlText).origin);
  const keeper = keeperFor(m, io);
  const client = new m.client.TeamClient(new URL(origin), profile.trust, profile.deviceId);
  const ended = new CrewvaultError('UNAUTHORIZED', `your session on ${origin} has ended: crewvault login ${origin}`);
  const tokens = await m.profiles.withServerLock(profiles.dir, origin, async (): Promise<SessionTokens> => {
    const kept = await keeper.get(origin, profile.username);
    if (kept === undefined) throw ended;
    if (kept.accessExpiresAt > io.now() + SKEW_MS) return kept;
    if (kept.refreshExpiresAt <= io.now()) throw ended;
    try {
      const next = await client.refresh(kept);
      await keeper.set(origin, profile.username, next);
      return next;
    } catch (error) {
      if (isCrewvaultError(error) && error.code === 'UNAUTHORIZED') {
        await keeper.remove(origin, profile.username);
        profiles.signedOut(origin);
        throw ended;
      }
      throw error;
    }
  });
  client.tokens = tokens;
  return { client, origin, username: profile.username, keeper, profiles };
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
  const profiles = new m.profiles.ServerProfiles(m.profiles.defaultConfigDir(io.env));
  const { origin, profile } = profiles.resolve(positionals[0] === undefined ? undefined : m.transport.parseServerUrl(positionals[0]).origin);
  const keeper = keeperFor(m, io);
  let ended: number;
  try {
    const { client } = await keptSession(m, io, origin);
    ({ endedSessions: ended } = await client.call(values.everywhere === true ? 'signOutEverywhere' : 'signOut', {}));
  } catch (error) {
    // The session leaves this computer whatever the server said; the person hears what it did not.
    await keeper.remove(origin, profile.username);
    profiles.signedOut(origin);
    if (isCrewvaultError(error) && error.code === 'UNAUTHORIZED') {
      io.out(`Signed out of ${origin} (the session had already ended there).\n`);
      return 0;
    }
    if (isCrewvaultError(error)) throw new CrewvaultError(error.code, `${error.message} — signed out on this computer; on the server the session ends when it expires`);
    throw error;
  }
  await keeper.remove(origin, profile.username);
  profiles.signedOut(origin);
  io.out(`Signed out of ${origin}${ended > 1 ? ` (${ended} sessions ended)` : ''}.\n`);
  return 0;
}

export const loginCommand: CliCommand = { summary: 'sign in to a team server (register with an invite the first time)', usage: LOGIN_USAGE, run: login };
export const whoamiCommand: CliCommand = { summary: 'who you are signed in as on a team server', usage: WHOAMI_USAGE, run: whoami };
export const logoutCommand: CliCommand = { summary: 'sign out of a team server', usage: LOGOUT_USAGE, run: logout };
