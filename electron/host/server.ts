/**
 * The browser host (`crewvault serve`): the built renderer and `POST /rpc/<method>` on
 * 127.0.0.1 only, onto the same router as Electron's IPC. It is a door: it adapts HTTP and
 * refuses what is not from the page it served, and holds no business rule.
 *
 * Refusals: no or wrong token (401, constant-time compare); a Host other than
 * 127.0.0.1:PORT / localhost:PORT — DNS rebinding — or a foreign Origin (403); a body over
 * 1 MiB (413); an unknown method (404); anything but POST on /rpc (405); a body that is not
 * JSON (400). Static files: GET/HEAD only, known types, no-store, the same CSP as Electron.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { isMethodName } from '../../shared/api/contract';
import type { Router } from '../router';
import { SECURITY_HEADERS } from './security-headers';

export const TOKEN_HEADER = 'x-crewvault-token';
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

export interface HostOptions {
  readonly router: Router;
  /** The built renderer (dist/renderer). */
  readonly staticRoot: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** A fixed token (tests); a random 256-bit one otherwise. */
  readonly token?: string;
}

export interface RunningHost {
  readonly server: Server;
  readonly port: number;
  readonly token: string;
  /** The one URL to open: the token rides in the fragment, which browsers never send. */
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json; charset=utf-8'): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, JSON.stringify({ ok: false, error: { code, message } }));
}

function tokensMatch(given: string | undefined, expected: Buffer): boolean {
  if (given === undefined) return false;
  const buffer = Buffer.from(given, 'utf8');
  // timingSafeEqual needs equal lengths; the token's length is no secret, its bytes are.
  if (buffer.length !== expected.length) return false;
  return timingSafeEqual(buffer, expected);
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
  const token = options.token ?? randomBytes(32).toString('hex');
  const expectedToken = Buffer.from(token, 'utf8');
  const root = path.resolve(options.staticRoot);
  let port = 0;

  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];

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
    const given = req.headers[TOKEN_HEADER];
    if (!tokensMatch(typeof given === 'string' ? given : undefined, expectedToken)) return refuse(res, 401, 'UNAUTHORIZED', 'Missing or wrong token: open the URL crewvault serve printed.');
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
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
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
  return {
    server,
    port,
    token,
    url: `http://127.0.0.1:${port}/#token=${token}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
