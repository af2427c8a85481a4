/**
 * Local to this computer, never shared: the team servers it has signed in to. Per server
 * (by origin): the person's name on it, this computer's device id there, how its certificate
 * is trusted (pinned or by an authority), and the server's OPAQUE key as first seen.
 * Kept in `servers.json` in Crewvault's config folder (0600, written whole and renamed into
 * place). Nothing in it is a secret; the session's tokens are not here but in the OS
 * keychain (`crewvault-server` service), which another local user cannot read.
 * Refreshing a session spends its refresh token (the server ends a session whose token comes
 * twice), so one refresh at a time per server, across processes: `withServerLock`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { SessionTokens } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { keychainDeviceStore, type DeviceStore } from '../devices';
import { parseServerUrl, type ServerTrust, type TransportOptions } from './transport';

export const SERVERS_FILE = 'servers.json';
export const SERVER_KEYCHAIN_SERVICE = 'crewvault-server';

/** `$CREWVAULT_CONFIG`, else the platform's per-user config folder. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CREWVAULT_CONFIG) return path.resolve(env.CREWVAULT_CONFIG);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Crewvault');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Crewvault');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'crewvault');
}

const trustSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('authority') }),
  z.strictObject({ kind: z.literal('loopback') }),
  z.strictObject({ kind: z.literal('pinned'), pin: z.strictObject({ fingerprint256: z.string().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/), pem: z.string().max(16_384) }) }),
]);

const profileSchema = z.strictObject({
  username: z.string().min(1).max(64),
  userId: z.string().max(64),
  deviceId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  trust: trustSchema,
  serverKey: z.string().max(256),
  signedInAt: z.number().int().nonnegative(),
});
export type ServerProfile = z.infer<typeof profileSchema> & { readonly trust: ServerTrust };

const fileSchema = z.strictObject({
  version: z.literal(1),
  /** The server commands use when none is named: the last one signed in to. */
  current: z.string().nullable(),
  servers: z.record(z.string(), z.unknown()),
});
type ServersFile = { version: 1; current: string | null; servers: Record<string, ServerProfile> };

/** A profile as read: kept only when it is well formed and its key is an origin its trust fits. */
function readProfile(origin: string, value: unknown): ServerProfile | undefined {
  const parsed = profileSchema.safeParse(value);
  if (!parsed.success) return undefined;
  try {
    const url = parseServerUrl(origin);
    if (url.origin !== origin || (url.protocol === 'http:') !== (parsed.data.trust.kind === 'loopback')) return undefined;
  } catch {
    return undefined;
  }
  return parsed.data;
}

/**
 * Refuses a config folder or file another local user could have written (as the unlock
 * agent's folder is checked): owned by someone else, writable by group or others, or a
 * symbolic link. What it holds decides which certificate is trusted.
 */
export function checkOwnership(target: string, what: string): void {
  let info;
  try {
    info = lstatSync(target);
  } catch {
    return; // not there yet: made here, 0700 / 0600
  }
  const mine = typeof process.getuid !== 'function' || info.uid === process.getuid();
  if (info.isSymbolicLink() || !mine || (info.mode & 0o022) !== 0) {
    throw new CrewvaultError('VAULT_TAMPERED', `${what} ${target} is a link, someone else's, or writable by others: Crewvault will not trust what it says (fix its owner and mode, e.g. chmod go-w)`);
  }
}

export class ServerProfiles {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, SERVERS_FILE);
  }

  private read(): ServersFile {
    checkOwnership(this.dir, 'the config folder');
    checkOwnership(this.file, 'the server list');
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, current: null, servers: {} };
      throw new CrewvaultError('INVALID_INPUT', `cannot read ${this.file}`);
    }
    let data: z.infer<typeof fileSchema>;
    try {
      data = fileSchema.parse(JSON.parse(text));
    } catch {
      throw new CrewvaultError('INVALID_INPUT', `${this.file} is not a list of servers this version reads: move it away and sign in again`);
    }
    // One bad entry costs that server's profile, not every other server's pin.
    const servers: Record<string, ServerProfile> = {};
    for (const [origin, value] of Object.entries(data.servers)) {
      const profile = readProfile(origin, value);
      if (profile) servers[origin] = profile;
    }
    return { version: 1, current: data.current !== null && servers[data.current] ? data.current : null, servers };
  }

  private write(data: ServersFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    checkOwnership(this.dir, 'the config folder');
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.file);
  }

  get(origin: string): ServerProfile | undefined {
    return this.read().servers[origin];
  }

  /** The server named, else the last one signed in to; NOT_FOUND when there is none. */
  resolve(origin: string | undefined): { origin: string; profile: ServerProfile } {
    const data = this.read();
    const chosen = origin ?? data.current ?? undefined;
    const profile = chosen === undefined ? undefined : data.servers[chosen];
    if (chosen === undefined || profile === undefined) {
      throw new CrewvaultError('NOT_FOUND', chosen === undefined ? 'not signed in to a team server: crewvault login URL' : `not signed in to ${chosen}: crewvault login ${chosen}`);
    }
    return { origin: chosen, profile };
  }

  /** This computer's device id for a server: kept once made, so the server knows it again. */
  deviceIdFor(origin: string): string {
    return this.read().servers[origin]?.deviceId ?? randomBytes(16).toString('hex');
  }

  save(origin: string, profile: ServerProfile): void {
    if (!readProfile(origin, profile)) throw new CrewvaultError('INTERNAL', 'a server profile out of shape was not saved');
    const data = this.read();
    this.write({ ...data, current: origin, servers: { ...data.servers, [origin]: profile } });
  }

  /** Forgets the session's place as current (the profile, its pin and device id stay). */
  signedOut(origin: string): void {
    const data = this.read();
    if (data.current === origin) this.write({ ...data, current: null });
  }
}

/** Where this computer keeps its server sessions: the profiles file and the OS keychain. */
export interface ServerPlace {
  readonly profiles: ServerProfiles;
  readonly keeper: SessionKeeper;
  /** Authorities beyond the computer's own (tests: a private CA). */
  readonly transport?: TransportOptions;
}

/** The place the CLI (and the desktop app, by default) uses: `$CREWVAULT_CONFIG`'s folder and `$CREWVAULT_KEYCHAIN_SERVICE`. */
export function serverPlace(env: NodeJS.ProcessEnv, configDir: string = defaultConfigDir(env)): ServerPlace {
  return {
    profiles: new ServerProfiles(configDir),
    keeper: new SessionKeeper(keychainDeviceStore(env.CREWVAULT_KEYCHAIN_SERVICE || SERVER_KEYCHAIN_SERVICE)),
  };
}

/** The keychain account of one person's session on one server. */
function tokenAccount(origin: string, username: string): string {
  return `session/${origin}/${username.toLowerCase()}`;
}

const tokensSchema = z.strictObject({
  accessToken: z.string(), accessExpiresAt: z.number(), refreshToken: z.string(), refreshExpiresAt: z.number(),
});

/** A server session's tokens in the OS keychain, and the device token this computer proves itself with there. */
export class SessionKeeper {
  constructor(private readonly keychain: DeviceStore) {}

  /** The device token the server gave this computer for `origin` (one per server, whoever signs in). */
  deviceToken(origin: string): Promise<string | null> {
    return this.keychain.get(`device/${origin}`);
  }

  setDeviceToken(origin: string, token: string): Promise<void> {
    return this.keychain.set(`device/${origin}`, token);
  }

  async get(origin: string, username: string): Promise<SessionTokens | undefined> {
    const text = await this.keychain.get(tokenAccount(origin, username));
    if (text === null) return undefined;
    const parsed = tokensSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  }

  set(origin: string, username: string, tokens: SessionTokens): Promise<void> {
    return this.keychain.set(tokenAccount(origin, username), JSON.stringify(tokens));
  }

  remove(origin: string, username: string): Promise<void> {
    return this.keychain.remove(tokenAccount(origin, username));
  }
}

/** A lock whose holder cannot be asked (another machine's pid) counts as left behind after this long. */
const STALE_LOCK_MS = 10 * 60_000;

function readLock(lock: string): string | undefined {
  try {
    return readFileSync(lock, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote a lock is gone (its pid no longer runs here). */
function holderGone(text: string, now: number, mtimeMs: number): boolean {
  const [pidText] = text.split(' ');
  const pid = Number(pidText);
  // A lock dated in the future (the clock was set back) or one unreadable: judged by age alone.
  if (mtimeMs > now + 60_000) return true;
  if (Number.isSafeInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 0);
      return false; // still running: its lock stands, however long it takes
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    }
  }
  return now - mtimeMs > STALE_LOCK_MS;
}

/**
 * Runs `work` while holding this server's lock file (created exclusively, naming its holder's
 * pid and a token of its own), so two commands do not spend one refresh token. A lock whose
 * holder has exited is taken over; the holder removes only its own. `wait` is how a waiter
 * passes time (tests pass a fake).
 */
export async function withServerLock<T>(dir: string, origin: string, work: () => Promise<T>, wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)), now: () => number = Date.now): Promise<T> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkOwnership(dir, 'the config folder');
  const lock = path.join(dir, `.lock-${Buffer.from(origin).toString('base64url')}`);
  const mine = `${process.pid} ${randomBytes(12).toString('hex')}`;
  const giveUpAt = now() + 120_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      try {
        writeSync(fd, mine);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let seen: string;
      let gone: boolean;
      try {
        seen = readFileSync(lock, 'utf8');
        gone = holderGone(seen, now(), lstatSync(lock).mtimeMs);
      } catch {
        continue; // released between the two looks: try again at once
      }
      // Removed only if it is still the lock judged left behind (not one another waiter just took).
      if (gone && readLock(lock) === seen) rmSync(lock, { force: true });
      else if (now() > giveUpAt) throw new CrewvaultError('BUSY', `another crewvault command is signing in to ${origin}: try again`);
      else await wait(50);
    }
  }
  try {
    return await work();
  } finally {
    if (readLock(lock) === mine) rmSync(lock, { force: true });
  }
}
