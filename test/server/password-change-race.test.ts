/**
 * A password change against sign-ins with the old password that overlap it, on PostgreSQL and on
 * PGlite, over real HTTP: once the change has committed, no sign-in with the old password ends in a
 * session. A start read the account's record, worked out OPAQUE's answer and only then wrote its
 * attempt, so a change committed in between (which ends every attempt) missed it, and the old
 * password finished afterwards; a finish took its attempt and opened its session in two steps, a
 * change between them missing the session. Each round sends starts beside the change, then
 * finishes every one the old password could.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, uniquePassword, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const ROUNDS = 12;
const STARTS = 4;

describe.each(DATABASE_KINDS)('a password change and overlapping sign-ins on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    // Limits far above what the rounds send: this is about the change, not the throttle.
    server = await startTestServer(await databases.open(kind), { throttle: { perAccount: 10_000, perAddress: 10_000 } });
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(async () => server?.close());

  it('opens no session with the old password once the change has committed', async () => {
    const person = await invitePerson(server, owner);
    let password = person.password;
    let finishedOld = 0;
    let overlapped = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const old = password;
      const next = uniquePassword();
      const clients = Array.from({ length: STARTS }, () => new TestClient(server.url));
      const [started] = await Promise.all([
        Promise.all(clients.map((c) => c.loginStart(person.username, old).catch(() => undefined))),
        person.client.changePassword(next),
      ]);
      password = next;
      for (const [i, s] of started.entries()) {
        if (s?.finish === undefined) continue; // answered from the new record: the old password cannot even finish
        overlapped += 1;
        const reply = await clients[i]?.call('loginFinish', { attemptId: s.attemptId, finishLoginRequest: s.finish.finishLoginRequest, deviceId: clients[i]?.deviceId ?? '' });
        if (reply?.ok === true) finishedOld += 1;
      }
    }
    // Starts did overlap the change (answered from the old record), or this would prove nothing.
    expect(overlapped).toBeGreaterThan(0);
    expect(finishedOld, `${finishedOld} of ${overlapped} starts answered from the old record finished after the change`).toBe(0);
    // The new password works, the old one does not.
    await new TestClient(server.url).login(person.username, password);
  });
});
