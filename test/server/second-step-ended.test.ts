/**
 * A right code that waited its turn behind another second step of the same account, while that
 * other one ended its sign-in (the fifth wrong code of the attempt does), on PostgreSQL over real
 * HTTP. The code's request had authenticated its session before the wait; the session is read
 * again once the wait is over (second-step.ts checkSecondStep, sessionStands), so the right code
 * finds its sign-in ended: refused, and it clears none of the account's wrong codes. Without the
 * read again it was taken for a session that no longer existed, and the account's count of
 * wrong codes (its backoff) was wiped by it. The other second step is played by the test's own
 * transaction holding the account's turn (the store's advisory lock) and ending the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { int, text } from '../../server/store/db';
import { useTestDatabases } from './databases';
import { sentWhileHeld } from './held-transaction';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe('a right code whose sign-in ended while it waited its turn, on postgres', () => {
  let server: TestServer;
  let member: Person;
  let secret: string;
  beforeAll(async () => {
    server = await startTestServer(await databases.open('postgres'));
    const owner = await registerOwner(server);
    member = await invitePerson(server, owner);
    ({ secret } = await member.client.ok('mfaEnrolStart', {}));
    await member.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
  }, 120_000);
  afterAll(async () => server?.close());

  async function wrongCodes(): Promise<number> {
    const [row] = await server.db.query('SELECT failures FROM mfa_throttle WHERE user_id = $1', [member.user.id]);
    return row === undefined ? 0 : int(row, 'failures');
  }

  async function codesTaken(): Promise<number> {
    const rows = await server.db.query("SELECT detail FROM server_audit WHERE kind = 'mfa.code' AND subject_id = $1", [member.user.id]);
    return rows.filter((row) => (JSON.parse(text(row, 'detail')) as { ok?: boolean }).ok === true).length;
  }

  it('is refused, and the account keeps its wrong codes', async () => {
    // One wrong code from another sign-in: the account's count the right code must not clear.
    const other = new TestClient(server.url);
    expect((await other.login(member.username, member.password)).secondStep).toBe('code');
    const wrong = String((Number(authenticatorCode(secret, server.clock.now())) + 1) % 1_000_000).padStart(6, '0');
    expect(await other.fails('mfaVerify', { code: wrong })).toMatchObject({ code: 'WRONG_CODE' });
    expect(await wrongCodes()).toBe(1);
    const taken = await codesTaken();

    const client = new TestClient(server.url);
    expect((await client.login(member.username, member.password)).secondStep).toBe('code');
    const reply = await sentWhileHeld(server.db,
      async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(1, hashtext($1))', [member.user.id]);
      },
      () => client.call('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) }),
      async (tx) => {
        const ended = await tx.query('DELETE FROM sessions WHERE user_id = $1 AND device_id = $2 RETURNING id', [member.user.id, client.deviceId]);
        expect(ended).toHaveLength(1);
      });
    expect(reply).toMatchObject({ ok: false, status: 401, error: { code: 'UNAUTHORIZED', message: 'This sign-in has ended: sign in again with your password' } });
    expect(await wrongCodes()).toBe(1);
    expect(await codesTaken()).toBe(taken);

    // The same code on a sign-in that stands is taken, and clears the count: the refusal above was the ended session's.
    const again = new TestClient(server.url);
    await again.login(member.username, member.password);
    server.clock.advance(30_000);
    expect(await again.ok('mfaVerify', { code: authenticatorCode(secret, server.clock.now()) })).toEqual({ secondStep: 'done' });
    expect(await wrongCodes()).toBe(0);
  });
});
