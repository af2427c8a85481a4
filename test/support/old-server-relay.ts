/**
 * A loopback HTTP relay in front of a real team server that answers as a server from before schema
 * 23 would (server-schema-outdated.test.ts): its health reply says schema 22, and a pull or
 * snapshot naming `kinds`, or a push carrying a role, settings or MFA policy record, is refused as
 * that server's strict schema refused them (INVALID_INPUT, "the body: has a field this route does
 * not take", HTTP 400). Set to another schema, it says that one, and refuses a push's `pulled`
 * below 29 (server-schema-pulled.test.ts). Everything else is passed on as it came. `asked` counts the requests by
 * path, so a test sees what reached the server and that nothing loops.
 * Must never: log or keep a request's body beyond the one being relayed.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const NEWER_KINDS = new Set(['role', 'settings', 'mfa_policy']);

export class OldServerRelay {
  readonly asked = new Map<string, number>();
  /** The schema the health reply says (22 unless set: what it refuses follows it). */
  schema = 22;
  /** Pushes that named how far their desktop pulled (`pulled`, schema 29). */
  pulledSent = 0;
  private readonly http: Server;
  url = '';

  constructor(private readonly target: URL) {
    this.http = createServer((req, res) => void this.relay(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  /** Whether an old server's strict input schema refuses this body (a push's `pulled` from before schema 29, review R1). */
  private refuses(path: string, body: Buffer): boolean {
    if (path !== '/v1/sync/pull' && path !== '/v1/sync/snapshot' && path !== '/v1/sync/push') return false;
    const input = JSON.parse(body.toString('utf8')) as { kinds?: unknown; part?: unknown; pulled?: unknown; batch?: { records?: Array<{ kind?: unknown }> } };
    if (path === '/v1/sync/push' && 'pulled' in input) this.pulledSent++;
    if (path === '/v1/sync/push' && 'pulled' in input && this.schema < 29) return true;
    if (this.schema >= 23) return false;
    if (path === '/v1/sync/push') return (input.batch?.records ?? []).some((r) => typeof r.kind === 'string' && NEWER_KINDS.has(r.kind));
    return 'kinds' in input || input.part === 'objects';
  }

  private async relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    this.asked.set(path, (this.asked.get(path) ?? 0) + 1);
    if (req.method === 'POST' && this.refuses(path, body)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: { code: 'INVALID_INPUT', message: 'the body: has a field this route does not take' } }));
      return;
    }
    const out = request(new URL(path, this.target), { method: req.method, headers: { ...req.headers, host: this.target.host } }, (answer) => {
      if (path !== '/health') {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const parts: Buffer[] = [];
      answer.on('data', (c: Buffer) => parts.push(c));
      answer.on('end', () => {
        const reply = JSON.parse(Buffer.concat(parts).toString('utf8')) as { ok: boolean; value?: { schema?: number } };
        if (reply.value !== undefined) reply.value.schema = this.schema;
        const text = JSON.stringify(reply);
        res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
    out.on('error', () => res.destroy());
    out.end(body);
  }
}
