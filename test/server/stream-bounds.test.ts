/**
 * The sync stream's bounds per session and per account (hostile review of 7 December; server/sync/
 * stream.ts): streams were capped per process only (MAX_STREAMS), so one session could hold them
 * all and every other desktop got BUSY. Over real HTTP on loopback, on a real database: a session
 * opens streams up to MAX_STREAMS_PER_SESSION and is refused past it (BUSY, the refusal the desktop
 * already tries again after), while another session of the same account is still served; the
 * account's sessions together are refused past MAX_STREAMS_PER_ACCOUNT while another account is
 * still served (a technician of the same vault); a stream closed gives its place back. Bounded in count (a few dozen streams) and time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_STREAM_PATH } from '../../shared/api/server-contract';
import { putPerson } from '../../server/store/membership';
import { MAX_STREAMS_PER_ACCOUNT, MAX_STREAMS_PER_SESSION } from '../../server/sync/stream';
import { useTestDatabases } from './databases';
import { oneEntryPush } from './signers';
import { invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

interface Opened {
  readonly status: number;
  /** The refusal's code and message (a stream opened has none). */
  readonly error?: { readonly code: string; readonly message: string };
  readonly close: () => void;
}

/** Reads a stream's body until it ends or is aborted (what it says does not matter here, only its place). */
async function drain(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  try {
    while (!(await reader.read()).done) { /* an event or a keep-alive */ }
  } catch {
    // aborted by close()
  }
}

/**
 * Opens a stream as a desktop does, held until `close`. Its body is read as a desktop reads it: a
 * response left unread is closed by fetch once it is garbage-collected, which gave places back.
 */
async function openStream(url: string, client: TestClient, vault: string): Promise<Opened> {
  const controller = new AbortController();
  const response = await fetch(`${url}${SYNC_STREAM_PATH}?vault=${vault}`, { headers: client.authHeaders(), signal: controller.signal });
  if (response.status === 200 && response.body !== null) {
    void drain(response.body);
    return { status: 200, close: () => controller.abort() };
  }
  const body = await response.json() as { error: { code: string; message: string } };
  return { status: response.status, error: body.error, close: () => undefined };
}

describe('the sync stream per session and per account', () => {
  let server: TestServer;
  let owner: Person;
  const vault = randomBytes(16).toString('hex');
  const held: Opened[] = [];

  beforeAll(async () => {
    server = await startTestServer(await databases.open('pglite'));
    owner = await registerOwner(server);
    await owner.client.ok('syncPush', oneEntryPush(vault, randomUUID()));
  }, 120_000);
  afterAll(async () => {
    for (const stream of held) stream.close();
    await server?.close();
  });

  async function fill(client: TestClient, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const opened = await openStream(server.url, client, vault);
      expect(opened.status).toBe(200);
      held.push(opened);
    }
  }

  /** Another sign-in of the owner: a session of its own, on a device of its own. */
  async function ownerSession(): Promise<TestClient> {
    const client = new TestClient(server.url);
    await client.login(owner.username, owner.password);
    return client;
  }

  it('refuses a session past its cap and an account past its own, and serves the others', async () => {
    expect(MAX_STREAMS_PER_ACCOUNT % MAX_STREAMS_PER_SESSION).toBe(0);
    await fill(owner.client, MAX_STREAMS_PER_SESSION);
    const past = await openStream(server.url, owner.client, vault);
    expect(past.status).toBe(503);
    expect(past.error?.code).toBe('BUSY');
    expect(past.error?.message).toMatch(/This session holds 8 sync streams open already/);

    // Another session of the same account is still served, up to the account's cap across its sessions.
    const sessions = [owner.client];
    while (sessions.length < MAX_STREAMS_PER_ACCOUNT / MAX_STREAMS_PER_SESSION) {
      const session = await ownerSession();
      await fill(session, MAX_STREAMS_PER_SESSION);
      sessions.push(session);
    }
    const oneMore = await ownerSession();
    const pastAccount = await openStream(server.url, oneMore, vault);
    expect(pastAccount.status).toBe(503);
    expect(pastAccount.error?.code).toBe('BUSY');
    expect(pastAccount.error?.message).toMatch(/This account holds 32 sync streams open already/);

    // Another account is still served: a technician of the same vault (set up straight in the database, as code-servers.ts does).
    const other = await invitePerson(server, owner);
    await server.db.transaction((tx) => putPerson(tx, vault, { vaultUser: randomUUID(), accountId: other.user.id, role: 'technician', disabled: false }));
    const theirs = await openStream(server.url, other.client, vault);
    expect(theirs.status).toBe(200);
    held.push(theirs);

    // A stream closed gives its place back, once the server has seen its connection go (bounded: no fixed sleep decides).
    held.shift()?.close();
    let again = await openStream(server.url, oneMore, vault);
    for (let tries = 0; again.status !== 200 && tries < 200; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      again = await openStream(server.url, oneMore, vault);
    }
    expect(again.status).toBe(200);
    held.push(again);
  }, 60_000);
});
