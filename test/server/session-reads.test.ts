/**
 * Requests that arrive together have their sessions read in one statement (server/auth/
 * session-reads.ts), on PostgreSQL and PGlite over real HTTP: under a burst of concurrent
 * requests from several people, each is answered as its own person, and a sign-out is refused
 * at the very next request although reads of others' requests are in flight around it.
 * Must never wait on the clock: the burst is simply left in flight.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('session reads taken together, on %s', (kind) => {
  let server: TestServer;
  let people: Person[];
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    const owner = await registerOwner(server);
    people = [owner, await invitePerson(server, owner), await invitePerson(server, owner)];
  }, 120_000);

  it('answers each request of a concurrent burst as its own person', async () => {
    const asked = Array.from({ length: 30 }, (_, i) => people[i % people.length]).flatMap((p) => (p === undefined ? [] : [p]));
    const replies = await Promise.all(asked.map((p) => p.client.ok('session', undefined)));
    expect(replies.map((r) => r.user.username)).toEqual(asked.map((p) => p.username));
    expect(replies.map((r) => r.deviceId)).toEqual(asked.map((p) => p.client.deviceId));
  });

  it('refuses the request right after a sign-out while others\' reads are in flight', async () => {
    const leaving = await invitePerson(server, people[0] as Person);
    const burst = Promise.all(Array.from({ length: 40 }, (_, i) => (people[i % people.length] as Person).client.ok('session', undefined)));
    await leaving.client.ok('signOut', {});
    const next = leaving.client.fails('session', undefined);
    const more = Promise.all(people.map((p) => p.client.ok('session', undefined)));
    expect(await next).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect((await burst).length).toBe(40);
    expect((await more).map((r) => r.user.username)).toEqual(people.map((p) => p.username));
  });
});
