/**
 * Starts a Crewvault server: opens its database (PostgreSQL at `database`, else PGlite in
 * `<dataDir>/pglite`), brings the schema up to date, loads or makes its keys
 * (`<dataDir>/server-keys.json`), builds the app and listens. While the server has no account
 * it writes the first owner's invite to `<dataDir>/owner-invite.txt` (0600).
 *
 * Must never: listen on a non-loopback address without TLS (listen.ts), or print a key, an
 * invite or a token (the invite goes to the file; what is printed says where it is).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CrewvaultError } from '../shared/errors';
import { buildApp } from './app';
import { recordAudit } from './audit';
import { firstOwnerInvite } from './auth/accounts';
import { opaqueReady } from './auth/opaque';
import { DEFAULT_THROTTLE_LIMITS, type ServerContext } from './context';
import { loadOrCreateServerKeys } from './keys';
import { checkTlsRule, formatUrl, parseListen } from './listen';
import type { LogDestination } from './log';
import { openPglite, openPostgres, unreachableDatabase, type Database } from './store/db';
import { loadOrCreateLocalAdminKey } from './settings/local-only';
import { migrate } from './store/migrate';

export const OWNER_INVITE_FILE = 'owner-invite.txt';

export interface ServerOptions {
  /** `postgres://…`; PGlite in the data folder when undefined. */
  readonly database?: string;
  readonly dataDir: string;
  /** HOST:PORT (listen.ts). */
  readonly listen: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly now?: () => number;
  readonly log?: LogDestination;
  readonly version: string;
  /**
   * Server settings answer any address, not only this machine (`--allow-remote-admin`): off
   * by default. Recorded in the server's audit at each start that turns it on.
   */
  readonly allowRemoteAdmin?: boolean;
}

export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly database: Database;
  /** The first owner's invite file, while the server has no account. */
  readonly ownerInviteFile: string | undefined;
  /** The code key's fingerprint (server-computed codes): what an owner compares with GET /v1/codes/key's. */
  readonly codeKeyFingerprint: string;
  close(): Promise<void>;
}

/** `$CREWVAULT_SERVER_DATA`, else the platform's per-user data folder. */
export function defaultServerDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CREWVAULT_SERVER_DATA) return path.resolve(env.CREWVAULT_SERVER_DATA);
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'crewvault-server');
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new CrewvaultError('NOT_FOUND', `cannot read the TLS ${what} ${file}`);
  }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const listen = parseListen(options.listen);
  checkTlsRule(listen, { cert: options.tlsCert, key: options.tlsKey });
  const tls = options.tlsCert !== undefined && options.tlsKey !== undefined
    ? { cert: readPem(options.tlsCert, 'certificate'), key: readPem(options.tlsKey, 'key') }
    : undefined;

  await opaqueReady;
  const { keys } = await loadOrCreateServerKeys(options.dataDir);
  const db = options.database === undefined ? await openPglite(path.join(options.dataDir, 'pglite')) : openPostgres(options.database);
  try {
    await migrate(db);
    const ctx: ServerContext = { db, keys, now: options.now ?? Date.now, throttle: DEFAULT_THROTTLE_LIMITS };
    const invite = await firstOwnerInvite(ctx);
    const inviteFile = path.join(options.dataDir, OWNER_INVITE_FILE);
    rmSync(inviteFile, { force: true });
    if (invite !== undefined) writeFileSync(inviteFile, `${invite.invite}\n`, { mode: 0o600, flag: 'wx' });

    const allowRemoteAdmin = options.allowRemoteAdmin === true;
    const localAdminKey = loadOrCreateLocalAdminKey(options.dataDir);
    const app = await buildApp({ ...ctx, log: options.log, tls, version: options.version, allowRemoteAdmin, localAdminKey });
    await app.listen({ host: listen.host, port: listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : listen.port;
    if (allowRemoteAdmin) {
      await recordAudit(ctx, { kind: 'server.remote-admin-allowed', detail: { listen: `${listen.host}:${port}`, tls: tls !== undefined } });
    }
    return {
      url: formatUrl(tls !== undefined, listen.host, port),
      app,
      database: db,
      ownerInviteFile: invite === undefined ? undefined : inviteFile,
      codeKeyFingerprint: keys.codeKeys.current.id,
      async close() {
        await app.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw unreachableDatabase(error) ?? error;
  }
}
