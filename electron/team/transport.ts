/**
 * How a desktop or the CLI reaches a team server, and which server it trusts:
 * - Plain HTTP only to this computer (127.0.0.0/8, ::1, localhost): anywhere else a token or
 *   an OPAQUE message would cross the network in clear, so such a URL is refused before any
 *   connection is made (INSECURE_SERVER).
 * - HTTPS vouched for by a certificate authority this computer trusts (Node's bundled list,
 *   the system's store, NODE_EXTRA_CA_CERTS), with the host name checked as usual.
 * - Otherwise the server's certificate is pinned on first use, once the person has compared
 *   its SHA-256 fingerprint (as ssh asks about a host key): afterwards exactly that
 *   certificate is accepted, and any other is SERVER_CERT_CHANGED, refused during the TLS
 *   handshake, before a byte of the request leaves.
 * `localhost` is this computer by definition (RFC 6761), never by what a resolver says: a
 * resolver (or a hosts file) that maps it elsewhere would carry plain HTTP off this computer,
 * so it is connected to as 127.0.0.1 or ::1 without asking one (`loopbackLookup`).
 * Each request is a new connection (no agent, no TLS session reuse: a resumed session would
 * skip the pin check). Replies are bounded (MAX_REPLY_BYTES) and time-limited; a sync stream
 * is bounded per event and ends when the server is silent past its keep-alive.
 * Must never: send a request over a connection whose certificate was not accepted, or put a
 * token or body in an error message.
 */
import { X509Certificate } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { CrewvaultError } from '../../shared/errors';

/** What a reply may weigh: the largest is a pull page, which the server keeps to about 8 MiB. */
export const MAX_REPLY_BYTES = 16 * 1024 * 1024;
/** No byte for this long ends a request; so does the whole request taking `DEADLINE_MS`. */
const TIMEOUT_MS = 20_000;
const DEADLINE_MS = 60_000;

/** A certificate pinned on first use: its fingerprint (as openssl prints it) and the certificate itself. */
export interface CertificatePin {
  readonly fingerprint256: string;
  readonly pem: string;
}

/** How a server's certificate is trusted: by an authority, pinned, or (loopback) no TLS at all. */
export type ServerTrust = { readonly kind: 'authority' } | { readonly kind: 'pinned'; readonly pin: CertificatePin } | { readonly kind: 'loopback' };

export interface TransportOptions {
  /** Authorities beyond the computer's own (tests: a private CA). */
  readonly extraAuthorities?: readonly string[];
  /** How long a sync stream may be silent before it is ended (STREAM_IDLE_MS; tests: shorter). */
  readonly streamIdleMs?: number;
  /** How long a request, or a look at a certificate, may take in all (DEADLINE_MS; tests: shorter). */
  readonly deadlineMs?: number;
}

/**
 * Answers `localhost` with the loopback addresses themselves, whatever the system's resolver
 * would say; any other name is left to it (only loopback literals and `localhost` reach plain
 * HTTP at all: isLoopbackHost).
 */
export const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  const addresses = [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }].filter((a) => !options.family || options.family === a.family || options.family === `IPv${a.family}`);
  const [first] = addresses;
  if (hostname.toLowerCase().replace(/\.$/, '') !== 'localhost' || first === undefined) {
    callback(Object.assign(new Error(`not resolved here: ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    return;
  }
  if (options.all) callback(null, addresses);
  else callback(null, first.address, first.family);
};

/** Connection options for a host: `localhost` resolved by loopbackLookup, never by a resolver. */
function hostOptions(url: URL): RequestOptions {
  return url.hostname.toLowerCase() === 'localhost' ? { lookup: loopbackLookup } : {};
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * The server's origin from what a person typed: `https://host[:port]`, or `http://` to this
 * computer only. No user name, password, path, query or fragment.
 */
export function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new CrewvaultError('INVALID_INPUT', 'a server address looks like https://vault.example.com or https://10.0.0.5:8443');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CrewvaultError('INVALID_INPUT', `a server address starts with https:// (not ${url.protocol.replace(/:$/, '')})`);
  }
  if (url.username !== '' || url.password !== '') throw new CrewvaultError('INVALID_INPUT', 'a server address carries no user name or password');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new CrewvaultError('INVALID_INPUT', 'a server address is its origin only (no path, query or fragment)');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new CrewvaultError('INSECURE_SERVER', `plain http:// is for a server on this computer only: use https://${url.host}`);
  }
  return new URL(url.origin);
}

/** Every authority this computer trusts, plus any given. */
function authorities(options: TransportOptions): string[] {
  const found = new Set<string>(tls.rootCertificates);
  // Node 22.15+/23.10+: the system store and NODE_EXTRA_CA_CERTS as well as the bundled list.
  const lookup = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (lookup) for (const type of ['default', 'system']) for (const pem of lookup(type)) found.add(pem);
  for (const pem of options.extraAuthorities ?? []) found.add(pem);
  return [...found];
}

/** `AB:CD:…`, upper case, as Node and `openssl x509 -fingerprint -sha256` print it. */
export function normaliseFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^sha-?256[:= ]?/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)?.join(':');
}

function pemOf(cert: PeerCertificate): string {
  const base64 = cert.raw.toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

/** What a server presents, as seen before trusting it. */
export interface PresentedCertificate {
  /** True when an authority this computer trusts vouches for it, for this host name. */
  readonly vouched: boolean;
  readonly fingerprint256: string;
  readonly pem: string;
  readonly subject: string;
  readonly validFrom: Date;
  readonly validTo: Date;
}

/**
 * Connects, completes the TLS handshake, reads the certificate and hangs up: nothing is sent
 * over this connection. Used to show the person what they are asked to trust.
 */
export function presentedCertificate(url: URL, options: TransportOptions = {}): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const servername = isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 ? url.hostname : undefined;
    const socket: TLSSocket = tls.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      servername,
      ca: authorities(options),
      rejectUnauthorized: false, // only to look: nothing is sent on this connection
      timeout: TIMEOUT_MS,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(false);
      const x509 = new X509Certificate(cert.raw);
      const presented: PresentedCertificate = {
        vouched: socket.authorized,
        fingerprint256: cert.fingerprint256,
        pem: pemOf(cert),
        // Shown to a person: no control or format characters (an escape sequence, a right-to-left override).
        subject: x509.subject.replace(/\n/g, ', ').replace(/\p{C}+/gu, ' ').slice(0, 300),
        validFrom: new Date(x509.validFrom),
        validTo: new Date(x509.validTo),
      };
      socket.destroy();
      resolve(presented);
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out')));
    // A handshake trickled a byte at a time never trips the idle timeout: a deadline, as a request has.
    const deadline = setTimeout(() => socket.destroy(new Error('timed out')), options.deadlineMs ?? DEADLINE_MS);
    socket.once('close', () => clearTimeout(deadline));
    socket.once('error', (error: Error) => reject(unreachable(url, error)));
  });
}

function unreachable(url: URL, error: Error): CrewvaultError {
  const code = (error as { code?: unknown }).code;
  if (code === 'SERVER_CERT_CHANGED' || code === 'SERVER_UNTRUSTED') return error as CrewvaultError;
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT_ALTNAME/.test(code)) {
    return new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate is not vouched for by an authority this computer trusts (${code}): compare its fingerprint and trust it (crewvault login --trust)`);
  }
  const why = typeof code === 'string' ? code : 'no answer';
  return new CrewvaultError('SERVER_UNREACHABLE', `cannot reach the server at ${url.host} (${why})`);
}

/** What a failed connection means to the person: a pinned certificate out of date or replaced, or no server. */
function connectionError(url: URL, trust: ServerTrust, error: Error): CrewvaultError {
  const code = String((error as { code?: unknown }).code);
  if (trust.kind === 'pinned' && (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')) {
    return new CrewvaultError('SERVER_UNTRUSTED', `the certificate pinned for ${url.host} is ${code === 'CERT_HAS_EXPIRED' ? 'past its end date' : 'not valid yet'}: nothing was sent. Its administrator renews it; you then compare and trust the new fingerprint (crewvault login --trust)`);
  }
  const changed = code === 'SERVER_CERT_CHANGED' || (error as { reason?: unknown }).reason === 'the server presented another certificate';
  if (changed || (trust.kind === 'pinned' && /CERT|SELF_SIGNED|UNABLE_TO_/.test(code))) {
    return new CrewvaultError('SERVER_CERT_CHANGED', `${url.host} presented a certificate other than the one pinned for it: nothing was sent. If its administrator replaced it, compare the new fingerprint and trust it again (crewvault login --trust)`);
  }
  return unreachable(url, error);
}

export interface RawReply {
  readonly status: number;
  readonly body: unknown;
}

/** TLS options for a request to a server trusted this way. */
function tlsOptions(trust: ServerTrust, options: TransportOptions): RequestOptions & tls.ConnectionOptions {
  if (trust.kind === 'loopback') return {};
  if (trust.kind === 'authority') return { ca: authorities(options), rejectUnauthorized: true };
  const { pin } = trust;
  return {
    // The pinned certificate is the only anchor (a leaf issued by a private CA included), and
    // the one certificate accepted: the host name is not what is trusted here, the key is.
    ca: [pin.pem],
    allowPartialTrustChain: true,
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => (cert.fingerprint256 === pin.fingerprint256
      ? undefined
      : Object.assign(new Error('the server presented another certificate'), { code: 'SERVER_CERT_CHANGED' })),
  };
}

/**
 * One request; the reply's JSON body (undefined when empty). `sent`: told once the whole request
 * is handed to the operating system, so a caller about to keep the event loop busy (a first sync's
 * write) can first let a request it asks ahead go out (the connection is made on the loop).
 */
export async function send(url: URL, trust: ServerTrust, method: 'GET' | 'POST', path: string, body: string | undefined, headers: Readonly<Record<string, string>>, options: TransportOptions = {}, sent?: () => void): Promise<RawReply> {
  // Checked here too, not only where the address was typed: a profile read from disk may have been changed.
  if (url.protocol === 'http:' && (trust.kind !== 'loopback' || !isLoopbackHost(url.hostname))) throw new CrewvaultError('INSECURE_SERVER', 'plain http:// is for a server on this computer only');
  if (url.protocol === 'https:' && trust.kind === 'loopback') throw new CrewvaultError('INTERNAL', 'an https:// server needs a trust decision');
  const target = new URL(path, url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return await new Promise((resolve, reject) => {
    const outgoing = request(target, {
      method,
      agent: false,
      timeout: TIMEOUT_MS,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }), ...headers },
      ...hostOptions(url),
      ...tlsOptions(trust, options),
    }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          response.destroy();
          reject(new CrewvaultError('SERVER_UNREACHABLE', `the server at ${url.host} sent a reply larger than ${MAX_REPLY_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) as unknown });
        } catch {
          reject(new CrewvaultError('SERVER_UNREACHABLE', `the server at ${url.host} did not answer in JSON (is it a Crewvault server?)`));
        }
      });
      response.on('error', (error) => reject(unreachable(url, error)));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')));
    // A reply trickled a byte at a time never trips the idle timeout: the whole request has a deadline too.
    const deadline = setTimeout(() => outgoing.destroy(new Error('timed out')), options.deadlineMs ?? DEADLINE_MS);
    outgoing.on('close', () => clearTimeout(deadline));
    outgoing.on('error', (error) => reject(connectionError(url, trust, error)));
    if (sent !== undefined) outgoing.once('finish', sent);
    outgoing.end(body);
  });
}

/** A stream's longest line: events here are a few bytes; anything longer is not this server. */
const MAX_EVENT_LINE = 4096;
/** A stream silent this long has lost its server (which says it is alive every 25 s: server/app.ts KEEP_ALIVE_MS). */
export const STREAM_IDLE_MS = 80_000;

export interface EventStream {
  /** Resolves when the server ends the stream (its session's access token ran out) or it breaks. */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * Holds a Server-Sent Events stream open (the same trust as `send`): `onEvent` for each event's
 * name and data. Refused statuses reject `opened` with the server's error code when it gave one.
 */
export function openEventStream(url: URL, trust: ServerTrust, path: string, headers: Readonly<Record<string, string>>, onEvent: (event: string, data: string) => void, options: TransportOptions = {}): Promise<EventStream> {
  if (url.protocol === 'http:' && (trust.kind !== 'loopback' || !isLoopbackHost(url.hostname))) throw new CrewvaultError('INSECURE_SERVER', 'plain http:// is for a server on this computer only');
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolveOpened, rejectOpened) => {
    let endStream: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => {
      endStream = resolve;
    });
    const outgoing = request(new URL(path, url), { method: 'GET', agent: false, headers: { accept: 'text/event-stream', ...headers }, ...hostOptions(url), ...tlsOptions(trust, options) }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        rejectOpened(new CrewvaultError(response.statusCode === 401 ? 'UNAUTHORIZED' : 'SERVER_UNREACHABLE', `the server at ${url.host} refused the sync stream (HTTP ${response.statusCode ?? 0})`));
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      let event = 'message';
      let data = '';
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (data !== '') onEvent(event, data);
            event = 'message';
            data = '';
          } else if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        // A line, or an event's data lines together, past what this server ever sends: not it.
        if (buffer.length > MAX_EVENT_LINE || data.length > MAX_EVENT_LINE) response.destroy();
      });
      response.on('close', () => endStream());
      resolveOpened({ ended, close: () => outgoing.destroy() });
    });
    // No byte for STREAM_IDLE_MS (a server frozen, a connection dropped without a word): end it,
    // so the one holding it opens another rather than waiting for ever.
    outgoing.setTimeout(options.streamIdleMs ?? STREAM_IDLE_MS, () => outgoing.destroy(new Error('the sync stream went silent')));
    outgoing.on('error', (error) => {
      rejectOpened(connectionError(url, trust, error));
      endStream();
    });
    outgoing.end();
  });
}
