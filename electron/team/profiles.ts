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
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { SessionTokens } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import type { DeviceStore } from '../devices';
import type { ServerTrust } from './transport';

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
  servers: z.record(z.string(), profileSchema),
});
type ServersFile = z.infer<typeof fileSchema>;

export class ServerProfiles {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, SERVERS_FILE);
  }

  private read(): ServersFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, current: null, servers: {} };
      throw new CrewvaultError('INVALID_INPUT', `cannot read ${this.file}`);
    }
    try {
      return fileSchema.parse(JSON.parse(text));
    } catch {
      throw new CrewvaultError('INVALID_INPUT', `${this.file} is not a list of servers this version reads: move it away and sign in again`);
    }
  }

  private write(data: ServersFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
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
    const data = this.read();
    this.write({ ...data, current: origin, servers: { ...data.servers, [origin]: profile } });
  }

  /** Forgets the session's place as current (the profile, its pin and device id stay). */
  signedOut(origin: string): void {
    const data = this.read();
    if (data.current === origin) this.write({ ...data, current: null });
  }
}

/** The keychain account of one person's session on one server. */
function tokenAccount(origin: string, username: string): string {
  return `session/${origin}/${username.toLowerCase()}`;
}

const tokensSchema = z.strictObject({
  accessToken: z.string(), accessExpiresAt: z.number(), refreshToken: z.string(), refreshExpiresAt: z.number(),
});

/** A server session's tokens in the OS keychain. */
export class SessionKeeper {
  constructor(private readonly keychain: DeviceStore) {}

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

/** How long a lock may be held before it is taken as left behind by a process that died. */
const STALE_LOCK_MS = 60_000;

/**
 * Runs `work` while holding this server's lock file (created exclusively), so two commands do
 * not spend one refresh token. `wait` is how a waiter passes time (tests pass a fake).
 */
export async function withServerLock<T>(dir: string, origin: string, work: () => Promise<T>, wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)), now: () => number = Date.now): Promise<T> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = path.join(dir, `.lock-${Buffer.from(origin).toString('base64url')}`);
  const giveUpAt = now() + 30_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = (() => {
        try {
          return now() - statSync(lock).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if (age > STALE_LOCK_MS) rmSync(lock, { force: true });
      else if (now() > giveUpAt) throw new CrewvaultError('BUSY', `another crewvault command is signing in to ${origin}: try again`);
      else await wait(50);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}
