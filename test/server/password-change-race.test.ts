/**
 * A password change against sign-ins with the old password that overlap it, on PostgreSQL and on
 * PGlite, over real HTTP: once the change has committed, no sign-in with the old password ends in a
 * session. A start read the account's record, worked out OPAQUE's answer and only then wrote its
 * attempt, so a change committed in between (which ends every attempt) missed it, and the old
 * password finished afterwards; a finish took its attempt and opened its session in two steps, a
 * change between them missing the session. The first test sends starts beside the change, then
 * finishes every one the old password could; the second starts before it and finishes beside it.
 * Only PostgreSQL can fail them: PGlite runs one transaction at a time.
 */
import { randomBytes } from 'node:crypto';
import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, sealWithExportKey, startTestServer, TEST_KEY_STRETCHING, TestClient, uniquePassword, type Person, type TestServer } from './support';

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

  /** ROUNDS changes of `person`'s password, each with STARTS new clients; `round` gets the password before and after it. */
  async function changes(person: Person, round: (old: string, next: string, clients: TestClient[]) => Promise<void>): Promise<string> {
    let password = person.password;
    for (let i = 0; i < ROUNDS; i += 1) {
      const next = uniquePassword();
      await round(password, next, Array.from({ length: STARTS }, () => new TestClient(server.url)));
      password = next;
    }
    return password;
  }

  it('opens no session with the old password once the change has committed', async () => {
    const person = await invitePerson(server, owner);
    let finishedOld = 0;
    let overlapped = 0;
    const password = await changes(person, async (old, next, clients) => {
      const [started] = await Promise.all([
        Promise.all(clients.map((c) => c.loginStart(person.username, old).catch(() => undefined))),
        person.client.changePassword(next),
      ]);
      for (const [i, s] of started.entries()) {
        if (s?.finish === undefined) continue; // answered from the new record: the old password cannot even finish
        overlapped += 1;
        const reply = await clients[i]?.call('loginFinish', { attemptId: s.attemptId, finishLoginRequest: s.finish.finishLoginRequest, deviceId: clients[i]?.deviceId ?? '' });
        if (reply?.ok === true) finishedOld += 1;
      }
    });
    // Some starts were answered from the old record (before the change, or beside it), or this would prove nothing.
    expect(overlapped).toBeGreaterThan(0);
    expect(finishedOld, `${finishedOld} of ${overlapped} starts answered from the old record finished after the change`).toBe(0);
    // The new password works, the old one does not.
    await new TestClient(server.url).login(person.username, password);
  });

  it('leaves no session the old password finished beside the change', async () => {
    const person = await invitePerson(server, owner);
    let finished = 0;
    let survived = 0;
    await changes(person, async (old, next, clients) => {
      // Started before the change (answered from the old record), finished beside its last request.
      const started = await Promise.all(clients.map((c) => c.loginStart(person.username, old)));
      const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: next });
      const { registrationResponse } = await person.client.ok('passwordStart', { registrationRequest });
      const { registrationRecord, exportKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse, password: next, keyStretching: TEST_KEY_STRETCHING });
      const [finishes] = await Promise.all([
        Promise.all(clients.map((c, i) => c.call('loginFinish', { attemptId: started[i]?.attemptId ?? '', finishLoginRequest: started[i]?.finish?.finishLoginRequest ?? '', deviceId: c.deviceId }))),
        person.client.ok('passwordFinish', { registrationRecord, sealedKeys: sealWithExportKey(exportKey, randomBytes(32)) }),
      ]);
      for (const [i, reply] of finishes.entries()) {
        const client = clients[i];
        if (reply?.ok !== true || client === undefined) continue;
        finished += 1;
        client.tokens = reply.value.tokens;
        if ((await client.call('session', undefined)).ok) survived += 1;
      }
    });
    // (On PGlite one transaction runs at a time, so nothing overlaps there: that run checks nothing breaks.)
    expect(survived, `${survived} of ${finished} sessions the old password opened outlived the change`).toBe(0);
  });
});
