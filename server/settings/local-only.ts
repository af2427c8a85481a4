/**
 * finPOWER's "Allow local access only", on by default: the routes the contract marks `local`
 * (the server's settings: SMTP, SMS, its status) answer only a request from this machine.
 *
 * "This machine" is two things, both needed. The socket: the peer address the TCP connection
 * came from is 127.0.0.1 or ::1 (or 127.0.0.1 as IPv4-mapped IPv6); the rest of 127.0.0.0/8
 * does not count (a connection from 127.0.0.2 was made on purpose from another source address,
 * a container's or a tunnel's, and it is what the tests use to stand for another machine), and
 * a request carrying a proxy's forwarding header (Forwarded, X-Forwarded-For, X-Real-IP) is not
 * local whatever the socket says. And the key: a reverse proxy on this machine relays other
 * machines' requests from 127.0.0.1, and nginx's `proxy_pass`, HAProxy's and a plain TCP relay
 * add no forwarding header unless told to, so the socket alone would take every request they
 * relay for this machine's. The server keeps 256 random bits in its data folder
 * (LOCAL_ADMIN_KEY_FILE, mode 0600, made at the first start, never replaced, so processes
 * sharing the folder agree), and a `local` route also needs them in LOCAL_ADMIN_HEADER:
 * reading that file is being on this machine as the server's user (`crewvault server admin`
 * reads it there). A header's value is never believed as an address, only the forwarding
 * headers' presence; Fastify's trustProxy stays off, so `request.ip` is the socket's address too.
 *
 * `crewvault server --allow-remote-admin` turns the rule off (with a warning on start and an
 * audit event: server/main.ts). Must never: trust an address a client wrote in a header, log
 * the key or put it in an error, or compare it in time that depends on where it differs.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { LOCAL_ADMIN_HEADER } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';

/** In the server's data folder, mode 0600: `crewvault server admin` reads it there. */
export const LOCAL_ADMIN_KEY_FILE = 'local-admin.key';

const THIS_MACHINE = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

const KEY_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The data folder's key: made at the first start (written to a file of its own, then linked
 * into place, so a second process starting at the same moment reads the whole key or makes
 * none), read at every later one.
 */
export function loadOrCreateLocalAdminKey(dataDir: string): string {
  const file = path.join(dataDir, LOCAL_ADMIN_KEY_FILE);
  const made = path.join(dataDir, `.${LOCAL_ADMIN_KEY_FILE}.${randomBytes(8).toString('hex')}`);
  writeFileSync(made, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(made, file);
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
  } finally {
    rmSync(made, { force: true });
  }
  return readLocalAdminKey(dataDir);
}

/** The key in `dataDir`, for `crewvault server admin`; NOT_FOUND when it cannot be read (not this machine, or not as the server's user). */
export function readLocalAdminKey(dataDir: string): string {
  const file = path.join(dataDir, LOCAL_ADMIN_KEY_FILE);
  let key: string;
  try {
    key = readFileSync(file, 'utf8').trim();
  } catch {
    throw new CrewvaultError('NOT_FOUND', `cannot read ${file}: run this on the server's machine as the user it runs as, with the --data folder it was given`);
  }
  if (!KEY_SHAPE.test(key)) throw new CrewvaultError('VAULT_CORRUPT', `${file} is not a Crewvault server's local admin key`);
  return key;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The header holds exactly the key (once; a repeated header is joined, so it is not). */
function holdsKey(headers: IncomingHttpHeaders, key: string): boolean {
  const presented = headers[LOCAL_ADMIN_HEADER];
  return typeof presented === 'string' && timingSafeEqual(digest(presented), digest(key));
}

/**
 * Whether a request with this socket peer and these headers comes from the server's own
 * machine; with `localAdminKey` (the real server always has one) it must also carry that key.
 */
export function isFromThisMachine(peer: string | undefined, headers: IncomingHttpHeaders, localAdminKey?: string): boolean {
  if (peer === undefined || !THIS_MACHINE.has(peer.toLowerCase())) return false;
  if (!FORWARDING_HEADERS.every((name) => headers[name] === undefined)) return false;
  return localAdminKey === undefined || holdsKey(headers, localAdminKey);
}

/** Throws FORBIDDEN unless the request is from this machine or the server allows remote administration. */
export function requireThisMachine(fromThisMachine: boolean, allowRemoteAdmin: boolean): void {
  if (fromThisMachine || allowRemoteAdmin) return;
  throw new CrewvaultError('FORBIDDEN', 'Server settings are managed from the server\'s own machine only (crewvault server admin on it)');
}
