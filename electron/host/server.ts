/**
 * The browser host (`crewvault serve`): the built renderer and `POST /rpc/<method>` on
 * 127.0.0.1 only, onto the same router as Electron's IPC. It is a door: it adapts HTTP and
 * refuses what is not from the page it served, and holds no business rule.
 *
 * Sign-on (electron/host/launch.ts): the URL it prints and opens is `/?launch=CODE`, a code
 * that works once. That first load gets a 303 to `/` (so the code leaves the address bar)
 * with the session secret in an HttpOnly, SameSite=Strict cookie; the page never sees it and
 * its fetches carry it. Every /rpc call needs that cookie.
 *
 * Refusals: no or wrong session cookie (401, constant-time compare); a launch code used
 * before, expired or wrong (401); a Host other than 127.0.0.1:PORT / localhost:PORT — DNS
 * rebinding — or a foreign Origin (403); a body over 1 MiB (413); an unknown method (404);
 * anything but POST on /rpc (405); a body that is not JSON (415/400), which with SameSite and
 * the Origin check keeps cross-site forms out (they cannot send JSON without a preflight,
 * and no preflight is ever answered). Static files: GET/HEAD only, known types, no-store, the
 * same CSP as Electron, and Referrer-Policy: no-referrer on every response.
 *
 * Must never: take a session from a header, a query or anything but the cookie (the old
 * `x-crewvault-token` header grants nothing); put the session secret in a URL or a log.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { isMethodName } from '../../shared/api/contract';
import type { Router } from '../router';
import { LAUNCH_CODE_TTL_MS, LaunchGate, type LaunchClock, type LaunchRefusal } from './launch';
import { SECURITY_HEADERS } from './security-headers';

export const MAX_BODY_BYTES = 1024 * 1024;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** What happened to a launch link, for the terminal: the person is the one who can tell whether it was them. */
export type LaunchEvent = { readonly outcome: 'exchanged' } | { readonly outcome: LaunchRefusal };

export interface HostOptions {
  readonly router: Router;
  /** The built renderer (dist/renderer). */
  readonly staticRoot: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** When the launch code runs out is measured on this clock (tests move it by hand). */
  readonly clock?: LaunchClock;
  /** How long the launch code works if unused; LAUNCH_CODE_TTL_MS unless a test says. */
  readonly launchTtlMs?: number;
  readonly onLaunch?: (event: LaunchEvent) => void;
}

export interface RunningHost {
  readonly server: Server;
  readonly port: number;
  /** The one URL to open, `/?launch=CODE`: it holds no session secret, and works once. */
  readonly launchUrl: string;
  /** The name of the session cookie; it carries the port because cookies ignore ports. */
  readonly cookieName: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json; charset=utf-8'): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, JSON.stringify({ ok: false, error: { code, message } }));
}

const REFUSED_LAUNCH: Readonly<Record<LaunchRefusal, string>> = {
  used: 'This launch link was already used: it works once. If you did not open it in another tab or browser, someone else on this computer may have: stop crewvault serve (Ctrl+C in its terminal) and start it again.',
  expired: `This launch link has expired: it works for ${LAUNCH_CODE_TTL_MS / 60_000} minutes. Stop crewvault serve (Ctrl+C) and start it again for a new one.`,
  wrong: 'This is not the launch link crewvault serve printed. Open the one in its terminal.',
};

/** A page, not JSON: the person lands here from the address bar. Static text, so the CSP holds. */
function refuseLaunch(res: ServerResponse, refusal: LaunchRefusal): void {
  const page = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Crewvault: launch link refused</title><main><h1>Crewvault did not open</h1><p>${REFUSED_LAUNCH[refusal]}</p></main></html>`;
  send(res, 401, page, 'text/html; charset=utf-8');
}

/**
 * Every value of cookie `name` in a Cookie header. A page on another port of 127.0.0.1 can set
 * a cookie of the same name (cookies ignore ports), so each is tried rather than refusing two.
 */
function cookieValues(header: string | undefined, name: string): string[] {
  return (header ?? '').split(';').map((pair) => pair.trim()).filter((pair) => pair.startsWith(`${name}=`)).map((pair) => pair.slice(name.length + 1));
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return 'too-large';
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const gate = new LaunchGate(options.clock ?? { now: () => Date.now() }, options.launchTtlMs);
  const root = path.resolve(options.staticRoot);
  let port = 0;
  let cookieName = '';

  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];
  const holdsSession = (req: IncomingMessage): boolean => cookieValues(req.headers.cookie, cookieName).some((value) => gate.holdsSession(value));

  function launch(req: IncomingMessage, res: ServerResponse, code: string): void {
    if (req.method !== 'GET') return refuse(res, 405, 'USAGE', 'Open the launch link in a browser.');
    const exchange = gate.exchange(code);
    if (!exchange.ok) {
      // The same browser opening the link twice (the terminal's copy after xdg-open's) is
      // no alarm: it already holds the session, so it just goes to the app.
      if (holdsSession(req)) {
        res.writeHead(303, { ...SECURITY_HEADERS, Location: '/', 'Content-Length': 0 });
        res.end();
        return;
      }
      options.onLaunch?.({ outcome: exchange.refusal });
      return refuseLaunch(res, exchange.refusal);
    }
    // HttpOnly: no script, injected or ours, can read it. SameSite=Strict: no other site's
    // page can make the browser send it. No Secure: this is plain http on 127.0.0.1 (browsers
    // differ on keeping a Secure cookie from http even there), and loopback traffic never
    // leaves the computer. No Max-Age: it lives until the browser quits, so a closed tab comes
    // back at `/`. Cookies ignore ports, so the browser also sends it to other servers on
    // 127.0.0.1 the person opens themselves; the name carries our port so that two hosts do
    // not overwrite each other's, and SECURITY.md names that limit.
    const cookie = `${cookieName}=${exchange.sessionSecret}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(303, { ...SECURITY_HEADERS, Location: '/', 'Set-Cookie': cookie, 'Content-Length': 0 });
    res.end();
    options.onLaunch?.({ outcome: 'exchanged' });
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'USAGE', 'Only GET here.');
    const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = path.resolve(root, relative);
    if (file !== root && !file.startsWith(root + path.sep)) return refuse(res, 404, 'NOT_FOUND', 'Not found.');
    const type = TYPES[path.extname(file).toLowerCase()];
    if (!type) return refuse(res, 404, 'NOT_FOUND', 'Not found.');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return refuse(res, 404, 'NOT_FOUND', 'Not found.');
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function serveRpc(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (req.method !== 'POST') return refuse(res, 405, 'USAGE', 'RPC calls are POST.');
    if (!holdsSession(req)) return refuse(res, 401, 'UNAUTHORIZED', 'This page has no Crewvault session: open the launch link crewvault serve printed (it works once; start crewvault serve again for a new one).');
    if (!isMethodName(method)) return refuse(res, 404, 'UNKNOWN_METHOD', 'Unknown method.');
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) return refuse(res, 415, 'INVALID_INPUT', 'RPC bodies are application/json.');
    const body = await readBody(req);
    if (body === 'too-large') {
      refuse(res, 413, 'INVALID_INPUT', 'The request body is over 1 MiB.');
      req.destroy();
      return;
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
    } catch {
      return refuse(res, 400, 'INVALID_INPUT', 'The request body is not JSON.');
    }
    send(res, 200, JSON.stringify(await options.router.call(method, input)));
  }

  // Loaded here, not at the top: in the CLI's ESM bundle a static import of node:http makes
  // every command (crewvault otp included) pay for Node's HTTP stack and undici at start-up.
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const host = req.headers.host ?? '';
    if (!allowedHosts().includes(host)) return refuse(res, 403, 'FORBIDDEN', 'Wrong Host header.');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHosts().some((h) => origin === `http://${h}`)) return refuse(res, 403, 'FORBIDDEN', 'Foreign origin.');
    const [pathname = '/', query = ''] = (req.url ?? '/').split('?', 2);
    const code = new URLSearchParams(query).get('launch');
    if (pathname === '/' && code !== null) return launch(req, res, code);
    const rpc = /^\/rpc\/([^/]+)$/.exec(pathname);
    const handled = rpc ? serveRpc(req, res, rpc[1] ?? '') : serveStatic(req, res, pathname);
    handled.catch(() => {
      if (!res.headersSent) refuse(res, 500, 'INTERNAL', 'Unexpected error.');
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  cookieName = `crewvault-${port}`;
  return {
    server,
    port,
    cookieName,
    launchUrl: `http://127.0.0.1:${port}/?launch=${gate.code}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
