/**
 * Review round thirteen (a), hole 2 (class: a revocation is judged when a request starts, and the
 * one request that lasts — the sync stream — is never judged again). A person of the vault holds a
 * sync stream open (GET /v1/sync/stream, as every desktop's live sync does); an owner disables them
 * in the vault (a signed user record, the person's pulls refused from that moment). The stream stays
 * open until their session's access token expires and goes on telling them every later push of the
 * vault (its sequence number: when and how much the vault changes), on one server process and, by
 * LISTEN/NOTIFY, from pushes made through any other. Expected: the stream ends once the disable
 * commits (or at the latest tells nothing stored after it). The same for a session ended from
 * another device (sign out everywhere): its next request is refused, its stream goes on.
 * Kept as test/server/stream-after-standing.test.ts (the reviewer's two cases unchanged), with cases
 * of our own: the stream's device removed from another device, its own session signed out, and on
 * real PostgreSQL a disable and the later pushes made through a second server process (their
 * notices reach the stream's process by LISTEN/NOTIFY): each ends the stream at its next notice.
 * Real HTTP on loopback, PGlite (the cases across processes: PostgreSQL).
 * Must never: sleep on the wall clock (each wait ends on a stream event or the stream's end).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_STREAM_PATH } from '../../shared/api/server-contract';
import { useTestDatabases } from './databases';
import { openPostgres } from '../../server/store/db';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, userRecord, vaultUsers } from './people';
import { invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

/** A stream as a desktop holds it: each `seq` event, or its end, awaited one at a time. */
class Stream {
  private readonly seen: Array<number | 'ended'> = [];
  private readonly waiting: Array<(event: number | 'ended') => void> = [];
  private constructor(private readonly controller: AbortController) {}

  static async open(url: string, client: TestClient, vault: string): Promise<Stream> {
    const controller = new AbortController();
    const response = await fetch(`${url}${SYNC_STREAM_PATH}?vault=${vault}`, { headers: client.authHeaders(), signal: controller.signal });
    if (response.status !== 200 || !response.body) throw new Error(`no stream: ${response.status}`);
    const stream = new Stream(controller);
    void stream.read(response.body.getReader());
    return stream;
  }

  private push(event: number | 'ended'): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(event);
    else this.seen.push(event);
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = /^event: seq\ndata: (\{.*\})$/.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (data !== undefined) this.push((JSON.parse(data) as { seq: number }).seq);
        }
      }
    } catch {
      // aborted or cut
    }
    this.push('ended');
  }

  next(): Promise<number | 'ended'> {
    const seen = this.seen.shift();
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    this.controller.abort();
  }
}

describe('a sync stream held open across its holder\'s disable (review 13a hole 2)', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech } } = await serverWithPeople(await databases.open('pglite'), ['tech']));
  }, 120_000);
  afterAll(() => server?.close());

  it('tells the disabled person nothing the vault stores after the disable', async () => {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), tech: randomUUID() };
    const g = randomUUID();
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.tech, 'technician', tech]]),
      groupRecord(u.owner, { id: g, keyVersion: 1 }), memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 }), entryIn(u.owner, g),
    ]));
    const stream = await Stream.open(server.url, tech.client, vault);
    try {
      const start = await stream.next();
      // The owner disables tech (G rotated without them, as a desktop does): from here tech's pulls are refused.
      const disabled = await owner.client.ok('syncPush', pushOf(vault, [
        userRecord(u.owner, { id: u.tech, role: 'technician', account: tech.user.id, revision: 2, disabled: true }), groupRecord(u.owner, { id: g, keyVersion: 2 }),
      ]));
      expect(await tech.client.fails('syncPull', { vault, since: 0 })).toMatchObject({ code: 'FORBIDDEN' });
      // Three more pushes of the vault, after the disable committed.
      for (let i = 0; i < 3; i++) await owner.client.ok('syncPush', pushOf(vault, [entryIn(u.owner, g, { keyVersion: 2 })]));
      const heard: Array<number | 'ended'> = [start];
      for (;;) {
        const event = await stream.next();
        heard.push(event);
        if (event === 'ended' || event > disabled.seq) break;
      }
      // Told at most where the vault stood up to the disable, then the stream ends.
      expect(heard.filter((e) => e !== 'ended' && e > disabled.seq)).toEqual([]);
      expect(heard.at(-1)).toBe('ended');
    } finally {
      stream.close();
    }
  });

  it('ends a stream whose session was signed out everywhere from another device', async () => {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), tech: randomUUID() };
    const g = randomUUID();
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.tech, 'technician', tech]]),
      groupRecord(u.owner, { id: g, keyVersion: 1 }), memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 }),
    ]));
    await tech.client.login(tech.username, tech.password);
    const stream = await Stream.open(server.url, tech.client, vault);
    try {
      const start = await stream.next();
      const laptop = new TestClient(server.url);
      await laptop.login(tech.username, tech.password);
      await laptop.ok('signOutEverywhere', {});
      expect(await tech.client.fails('syncPull', { vault, since: 0 })).toMatchObject({ code: 'UNAUTHORIZED' });
      const pushed = await owner.client.ok('syncPush', pushOf(vault, [entryIn(u.owner, g)]));
      const heard: Array<number | 'ended'> = [start];
      for (;;) {
        const event = await stream.next();
        heard.push(event);
        if (event === 'ended' || event >= pushed.seq) break;
      }
      expect(heard.at(-1)).toBe('ended');
    } finally {
      stream.close();
    }
  });
});

/** A vault of the owner and tech (a technician in G), pushed by the owner: its ids. */
async function vaultWithTech(owner: Person, tech: Person): Promise<{ vault: string; u: { owner: string; tech: string }; g: string }> {
  const vault = randomBytes(16).toString('hex');
  const u = { owner: randomUUID(), tech: randomUUID() };
  const g = randomUUID();
  await owner.client.ok('syncPush', pushOf(vault, [
    ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.tech, 'technician', tech]]),
    groupRecord(u.owner, { id: g, keyVersion: 1 }), memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 }),
  ]));
  return { vault, u, g };
}

/** Every event up to the stream's end or a number at or past `upTo`. */
async function heardUntil(stream: Stream, upTo: number): Promise<Array<number | 'ended'>> {
  const heard: Array<number | 'ended'> = [];
  for (;;) {
    const event = await stream.next();
    heard.push(event);
    if (event === 'ended' || event >= upTo) return heard;
  }
}

describe('a sync stream ends at its next notice once its holder no longer stands (our cases, hole 2)', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech } } = await serverWithPeople(await databases.open('pglite'), ['tech']));
  }, 120_000);
  afterAll(() => server?.close());

  it('ends a stream whose device was removed from another device', async () => {
    const { vault, u, g } = await vaultWithTech(owner, tech);
    const desk = new TestClient(server.url);
    await desk.login(tech.username, tech.password);
    const stream = await Stream.open(server.url, desk, vault);
    try {
      expect(typeof await stream.next()).toBe('number');
      const laptop = new TestClient(server.url);
      await laptop.login(tech.username, tech.password);
      expect(await laptop.ok('deviceRemove', { deviceId: desk.deviceId })).toMatchObject({ endedSessions: 1 });
      const pushed = await owner.client.ok('syncPush', pushOf(vault, [entryIn(u.owner, g)]));
      const heard = await heardUntil(stream, pushed.seq);
      expect(heard.filter((e) => e !== 'ended' && e >= pushed.seq)).toEqual([]);
      expect(heard.at(-1)).toBe('ended');
    } finally {
      stream.close();
    }
  });

  it('ends a stream whose own session signed out, and keeps telling another session of the same person', async () => {
    const { vault, u, g } = await vaultWithTech(owner, tech);
    const desk = new TestClient(server.url);
    await desk.login(tech.username, tech.password);
    const laptop = new TestClient(server.url);
    await laptop.login(tech.username, tech.password);
    const ending = await Stream.open(server.url, desk, vault);
    const staying = await Stream.open(server.url, laptop, vault);
    try {
      const start = await ending.next();
      expect(await staying.next()).toBe(start);
      await desk.ok('signOut', {});
      const pushed = await owner.client.ok('syncPush', pushOf(vault, [entryIn(u.owner, g)]));
      const heard = await heardUntil(ending, pushed.seq);
      expect(heard.filter((e) => e !== 'ended' && e >= pushed.seq)).toEqual([]);
      expect(heard.at(-1)).toBe('ended');
      // The other session still stands: it is told the push.
      expect(await heardUntil(staying, pushed.seq)).toEqual([pushed.seq]);
    } finally {
      ending.close();
      staying.close();
    }
  });
});

describe('a sync stream across two server processes on one PostgreSQL (our case, hole 2)', () => {
  it('tells nothing after a disable made through the other process, and ends', async () => {
    const url = await databases.postgresUrl();
    const first = await startTestServer(openPostgres(url));
    const owner = await registerOwner(first);
    const tech = await invitePerson(first, owner);
    const second = await startTestServer(openPostgres(url), { keys: first.keys });
    try {
      const { vault, u, g } = await vaultWithTech(owner, tech);
      const stream = await Stream.open(first.url, tech.client, vault);
      try {
        const start = await stream.next();
        expect(typeof start).toBe('number');
        // The owner on another desktop, through the other process: a push tech still hears, then the disable and three more.
        const elsewhere = new TestClient(second.url);
        await elsewhere.login(owner.username, owner.password);
        const before = await elsewhere.ok('syncPush', pushOf(vault, [entryIn(u.owner, g)]));
        expect(await heardUntil(stream, before.seq)).toEqual([before.seq]);
        const disabled = await elsewhere.ok('syncPush', pushOf(vault, [
          userRecord(u.owner, { id: u.tech, role: 'technician', account: tech.user.id, revision: 2, disabled: true }), groupRecord(u.owner, { id: g, keyVersion: 2 }),
        ]));
        let last = disabled.seq;
        for (let i = 0; i < 3; i++) last = (await elsewhere.ok('syncPush', pushOf(vault, [entryIn(u.owner, g, { keyVersion: 2 })]))).seq;
        const heard = await heardUntil(stream, last);
        expect(heard.filter((e) => e !== 'ended' && e > disabled.seq)).toEqual([]);
        expect(heard.at(-1)).toBe('ended');
      } finally {
        stream.close();
      }
    } finally {
      await second.close();
      await first.close();
    }
  }, 120_000);
});

