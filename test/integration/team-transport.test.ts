// The team client's transport against real HTTP servers on loopback, where the server or the
// name service misbehaves: `localhost` must be this computer whatever a resolver says (plain
// HTTP goes nowhere else), and a sync stream must end when its server floods it or falls
// silent, so the desktop holding it opens another instead of growing or waiting for ever.
import dns from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStream, presentedCertificate, send } from '../../electron/team/transport';

const LOOPBACK = { kind: 'loopback' } as const;
const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(host: string, port: number, handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<number> {
  const server = createServer(handle);
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Resolves with 'ended' when `ended` settles within `ms`, else 'still open' (the bound of the test, not a sleep). */
async function endsWithin(ended: Promise<void>, ms: number): Promise<'ended' | 'still open'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'still open'>((resolve) => {
    timer = setTimeout(() => resolve('still open'), ms);
  });
  try {
    return await Promise.race([ended.then(() => 'ended' as const), bound]);
  } finally {
    clearTimeout(timer);
  }
}

describe('localhost is this computer, never what a resolver says', () => {
  it('a resolver that maps localhost to another address does not move plain HTTP there', async () => {
    const reached: string[] = [];
    const answer = (who: string) => (_request: IncomingMessage, response: ServerResponse) => {
      reached.push(who);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    // The same port on two loopback addresses: 127.0.0.2 stands in for "somewhere else".
    const port = await listen('127.0.0.1', 0, answer('127.0.0.1'));
    await listen('127.0.0.2', port, answer('elsewhere'));
    const realLookup = dns.lookup;
    const lied: string[] = [];
    // A hostile resolver (or hosts file): localhost is 127.0.0.2.
    const hostile = ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
      lied.push(hostname);
      const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
      if (all) callback(null, [{ address: '127.0.0.2', family: 4 }]);
      else callback(null, '127.0.0.2', 4);
    }) as unknown as typeof dns.lookup;
    dns.lookup = hostile;
    try {
      const reply = await send(new URL(`http://localhost:${port}`), LOOPBACK, 'GET', '/health', undefined, {});
      expect(reply.status).toBe(200);
      // Control: the hostile resolver is what Node would ask for any other name.
      await send(new URL(`http://127.0.0.2:${port}`), LOOPBACK, 'GET', '/health', undefined, {});
    } finally {
      dns.lookup = realLookup;
    }
    expect(reached).toEqual(['127.0.0.1', 'elsewhere']);
    expect(lied).toEqual([]);
  });
});

describe('a sync stream ends when its server misbehaves', () => {
  const streamHead = (response: ServerResponse) => response.writeHead(200, { 'content-type': 'text/event-stream' });

  it('an event whose data lines never end is refused, not gathered without bound', async () => {
    const port = await listen('127.0.0.1', 0, (_request, response) => {
      streamHead(response);
      // Short lines (each under the line bound), and never the blank line that ends an event.
      for (let i = 0; i < 200; i += 1) response.write(`data: ${'x'.repeat(100)}\n`);
    });
    const events: string[] = [];
    const stream = await openEventStream(new URL(`http://127.0.0.1:${port}`), LOOPBACK, '/v1/sync/stream', {}, (_event, data) => events.push(data));
    try {
      expect(await endsWithin(stream.ended, 10_000)).toBe('ended');
      expect(events).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it('a stream that falls silent past its keep-alive is ended, one that keeps talking is not', async () => {
    let talk: NodeJS.Timeout | undefined;
    const silentPort = await listen('127.0.0.1', 0, (_request, response) => {
      streamHead(response);
      response.write('event: seq\ndata: {"seq":1}\n\n'); // then nothing, connection kept open
    });
    const talkingPort = await listen('127.0.0.1', 0, (_request, response) => {
      streamHead(response);
      talk = setInterval(() => response.write(': alive\n\n'), 50);
    });
    const options = { streamIdleMs: 400 };
    const seen: string[] = [];
    const silent = await openEventStream(new URL(`http://127.0.0.1:${silentPort}`), LOOPBACK, '/s', {}, (_event, data) => seen.push(data), options);
    const talking = await openEventStream(new URL(`http://127.0.0.1:${talkingPort}`), LOOPBACK, '/s', {}, () => undefined, options);
    try {
      expect(await endsWithin(silent.ended, 10_000)).toBe('ended');
      expect(seen).toEqual(['{"seq":1}']);
      // Several idle periods long, and still open: its keep-alives count as life.
      expect(await endsWithin(talking.ended, 1_500)).toBe('still open');
    } finally {
      clearInterval(talk);
      silent.close();
      talking.close();
    }
  });
});

describe('a server that trickles its answer is given up at the deadline', () => {
  /**
   * A TCP server that starts every answer with `start`, then goes on with one byte of `drip`
   * every 50 ms, forever: a TLS record or an HTTP header that is never whole, but never silent.
   */
  async function trickling(start: Buffer, drip: Buffer): Promise<{ port: number; close: () => Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.write(start);
      const drips = setInterval(() => socket.write(drip), 50);
      socket.on('close', () => {
        clearInterval(drips);
        sockets.delete(socket);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      port: (server.address() as AddressInfo).port,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  it('a look at its certificate (before the person is asked to trust it) and a request each end, SERVER_UNREACHABLE', async () => {
    // A handshake record 16,383 bytes long, coming a byte at a time; a reply's header line that never ends.
    const tlsServer = await trickling(Buffer.from('1603033fff', 'hex'), Buffer.from('02', 'hex'));
    const httpServer = await trickling(Buffer.from('HTTP/1.1 200 OK\r\nX-Slow: '), Buffer.from('a'));
    try {
      // The idle timeout (20 s) never trips: a byte comes every 50 ms. Only the deadline ends them.
      await expect(presentedCertificate(new URL(`https://127.0.0.1:${tlsServer.port}`), { deadlineMs: 400 })).rejects.toMatchObject({ code: 'SERVER_UNREACHABLE' });
      await expect(send(new URL(`http://127.0.0.1:${httpServer.port}`), LOOPBACK, 'GET', '/health', undefined, {}, { deadlineMs: 400 })).rejects.toMatchObject({ code: 'SERVER_UNREACHABLE' });
    } finally {
      await tlsServer.close();
      await httpServer.close();
    }
  });
});
