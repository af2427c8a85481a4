/**
 * A TCP relay on loopback between a desktop and a server process, for the fault tests: it
 * passes every byte both ways, except that it can lose the reply to the n-th request of a
 * given route (the request reaches the server whole; what the server answers goes nowhere),
 * which is how "the server stored it, the desktop never heard" happens on a real network.
 * Requests are one connection each (the desktop's transport uses no agent), so a request is
 * known by the first line its connection carries.
 * Must never: change a byte it passes on, or keep a connection open once either side closes.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ReplyCutter {
  /** `http://127.0.0.1:PORT`: the address the desktop is given instead of the server's. */
  readonly url: string;
  /**
   * From now on, the `nth` request whose first line starts with `requestLine` (e.g.
   * `POST /v1/sync/push `) reaches the server, but its reply is dropped; `sent` resolves once its
   * first bytes are passed on (wait on the server's own state for the rest, e.g. its commit).
   * `release()` then ends that connection (the desktop sees it closed without an answer).
   */
  cutReplyOf(requestLine: string, nth: number): { readonly sent: Promise<void>; release(): void };
  close(): Promise<void>;
}

export async function startReplyCutter(target: () => number): Promise<ReplyCutter> {
  const sockets = new Set<Socket>();
  let rule: { line: string; nth: number; seen: number; sent: () => void; held?: Socket } | undefined;
  const server: Server = createServer((client) => {
    const upstream = connect(target(), '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let first = true;
    let withheld = false;
    client.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        if (rule && chunk.toString('latin1').startsWith(rule.line)) {
          rule.seen++;
          if (rule.seen === rule.nth) {
            withheld = true;
            rule.held = client;
            const { sent } = rule;
            // Resolved once the request's first bytes are on their way; the rest follows as usual.
            upstream.write(chunk, () => sent());
            return;
          }
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!withheld) client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    client.on('error', end);
    upstream.on('close', () => {
      if (!withheld) end(); // a withheld one waits for release(): the desktop hears nothing until then
    });
    upstream.on('error', () => {
      if (!withheld) end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the relay has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    cutReplyOf(requestLine, nth) {
      let resolveSent: () => void = () => undefined;
      const sent = new Promise<void>((resolve) => {
        resolveSent = resolve;
      });
      const current = { line: requestLine, nth, seen: 0, sent: resolveSent } as NonNullable<typeof rule>;
      rule = current;
      return {
        sent,
        release: () => {
          current.held?.destroy();
          if (rule === current) rule = undefined;
        },
      };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
