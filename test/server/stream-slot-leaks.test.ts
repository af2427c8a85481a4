/**
 * A sync stream's place (server/sync/stream.ts, MAX_STREAMS_PER_SESSION and _PER_ACCOUNT) is given
 * back however the stream ends (hostile review 4 of 7 December): the connection gone while the
 * stream was being authorised (its 'close' told before the stream listened for it), gone after it
 * opened, and a refusal (which never takes one). Each way is taken more often than a session has
 * places, then the account must still open all MAX_STREAMS_PER_ACCOUNT; and a session signed out
 * gives its places back before the account is refused (not at the next push to the vault or its
 * access token's end). Real HTTP on loopback, a real
 * PGlite database; the connection going mid-handshake is ordered by holding the database (PGlite runs
 * one transaction at a time) until the server has seen its socket close, not by a sleep.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_STREAM_PATH } from '../../shared/api/server-contract';
import { MAX_STREAMS_PER_ACCOUNT, MAX_STREAMS_PER_SESSION } from '../../server/sync/stream';
import { useTestDatabases } from './databases';
import { oneEntryPush } from './signers';
import { registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe('a sync stream gives its place back however it ends', () => {
  let server: TestServer;
  let owner: Person;
  const vault = randomBytes(16).toString('hex');
  const aborts: AbortController[] = [];
  /** The first test's session, left holding MAX_STREAMS_PER_SESSION streams (the account all of its own). */
  let first: TestClient | undefined;

  beforeAll(async () => {
    server = await startTestServer(await databases.open('pglite'));
    owner = await registerOwner(server);
    await owner.client.ok('syncPush', oneEntryPush(vault, randomUUID()));
  }, 120_000);
  afterAll(async () => {
    for (const abort of aborts) abort.abort();
    await server?.close();
  });

  /** Resolves once the server's side of the next connection made to it has closed. */
  function nextConnectionClosed(): Promise<void> {
    return new Promise((resolve) => server.app.server.once('connection', (socket: Socket) => socket.once('close', () => resolve())));
  }

  /** Opens a stream and holds it, reading its body as a desktop does; the status and how to abort it. */
  async function open(client: TestClient): Promise<{ readonly status: number; readonly abort: AbortController }> {
    const abort = new AbortController();
    aborts.push(abort);
    const response = await fetch(`${server.url}${SYNC_STREAM_PATH}?vault=${vault}`, { headers: client.authHeaders(), signal: abort.signal });
    if (response.status === 200 && response.body !== null) {
      const reader = response.body.getReader();
      void (async () => {
        try {
          while (!(await reader.read()).done) { /* an event or a keep-alive */ }
        } catch {
          // aborted
        }
      })();
    } else {
      await response.body?.cancel();
    }
    return { status: response.status, abort };
  }

  /** Asks for a stream and drops the connection while the server is still authorising it (its queries wait on the held database). */
  async function goneMidHandshake(client: TestClient): Promise<void> {
    const closed = nextConnectionClosed();
    await server.db.transaction(async () => {
      const { hostname, port } = new URL(server.url);
      const socket = connect(Number(port), hostname);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const headers = Object.entries(client.authHeaders()).map(([name, value]) => `${name}: ${value}`);
      socket.write([`GET ${SYNC_STREAM_PATH}?vault=${vault} HTTP/1.1`, `host: ${hostname}:${port}`, ...headers, '', ''].join('\r\n'));
      socket.destroy();
      await closed;
    });
  }

  async function signIn(): Promise<TestClient> {
    const client = new TestClient(server.url);
    await client.login(owner.username, owner.password);
    return client;
  }

  it('after connections gone mid-handshake, streams aborted and refusals, the account still opens its full count', async () => {
    const session = await signIn();
    first = session;
    // Gone while being authorised, twice a session's places.
    for (let i = 0; i < 2 * MAX_STREAMS_PER_SESSION; i++) await goneMidHandshake(session);
    // Opened and aborted by the client, twice a session's places (each waits until the server saw the connection go).
    for (let i = 0; i < 2 * MAX_STREAMS_PER_SESSION; i++) {
      const closed = nextConnectionClosed();
      const opened = await open(session);
      expect(opened.status).toBe(200);
      opened.abort.abort();
      await closed;
    }
    // Filled, then refused past the session's cap a session's places over: a refusal takes none.
    for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) expect((await open(session)).status).toBe(200);
    for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) expect((await open(session)).status).toBe(503);
    // The account's other places are all still there.
    for (let s = 1; s < MAX_STREAMS_PER_ACCOUNT / MAX_STREAMS_PER_SESSION; s++) {
      const other = await signIn();
      for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) expect((await open(other)).status).toBe(200);
    }
    expect((await open(await signIn())).status).toBe(503);
  }, 90_000);

  it('a session signed out gives its places back to the account before a stream of it is refused', async () => {
    // The account holds all its places (the test before); one of its sessions, holding 8 of them, is signed out.
    expect(first).toBeDefined();
    await first?.ok('signOut', {});
    const next = await signIn();
    for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) expect((await open(next)).status).toBe(200);
    expect((await open(await signIn())).status).toBe(503);
  }, 60_000);
});
