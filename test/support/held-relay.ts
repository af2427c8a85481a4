/**
 * A loopback HTTP relay in front of a real team server, for tests of a history taken in the
 * background (history-background.test.ts, e2e history-arriving.spec.ts): everything is passed on
 * as it came, except that while `holding`, a history page after the first (POST /v1/sync/snapshot,
 * events part, after > 0) waits until the test lets it go, and while `down` every connection is
 * dropped (a network gone). Nothing is changed on the way, and nothing is read but that request's
 * part and position. Must never: log or keep a request's body beyond the one being relayed.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export class HeldRelay {
  holding = false;
  down = false;
  readonly held: Array<{ readonly after: number; readonly go: () => void }> = [];
  private waiters: Array<() => void> = [];
  private readonly http: Server;
  url = '';

  constructor(private readonly target: URL) {
    this.http = createServer((req, res) => void this.relay(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** Resolves once a history page is held. */
  nextHeld(): Promise<{ readonly after: number; readonly go: () => void }> {
    const first = this.held.shift();
    if (first) return Promise.resolve(first);
    return new Promise((resolve) => this.waiters.push(() => resolve(this.held.shift() as { after: number; go: () => void })));
  }

  release(): void {
    this.holding = false;
    for (const h of this.held.splice(0)) h.go();
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  private async relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (this.down) {
      req.socket.destroy();
      return;
    }
    if (req.url === '/v1/sync/snapshot' && this.holding) {
      const asked = JSON.parse(body.toString('utf8')) as { part: string; after: number };
      if (asked.part === 'events' && asked.after > 0) {
        await new Promise<void>((go) => {
          this.held.push({ after: asked.after, go });
          this.waiters.shift()?.();
        });
      }
    }
    const out = request(new URL(req.url ?? '/', this.target), { method: req.method, headers: { ...req.headers, host: this.target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    out.end(body);
  }
}
