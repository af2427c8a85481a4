/**
 * The codes route's session read once, in the code's batch (server/app.ts SESSION_JUDGED_IN_HANDLER,
 * server/codes/batch.ts): a code asked over HTTP with a session costs no statement outside its batch's
 * transaction (before, every request's session was read for the request and again in the batch: one
 * statement a code more, the server's socket writes being most of its CPU a code), and the batch judges
 * that session as every other route's request is judged (authenticate, requireSecondStep): another device,
 * an expired access token, a session signed out, a second step still to do, each with the answer a fresh
 * request gets; a body it refuses is told only to a session that stands; a session in use is touched
 * (its idle time starts again) as authenticate touches it. Statements are counted by a wrapper that passes
 * each on to the real database. Real HTTP on loopback, real PostgreSQL and PGlite, real crypto; the
 * server's clock is injected.
 * Must never: print a key, a code or a token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_HEADER, SERVER_ROUTES } from '../../shared/api/server-contract';
import { ACCESS_TTL_MS, REFRESH_TTL_MS } from '../../server/context';
import { int } from '../../server/store/db';
import type { Database, DatabaseTransaction, Row } from '../../server/store/db';
import { putMembership, putPerson } from '../../server/store/membership';
import { serverCodeEntries } from './code-servers';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

/** The real database, the statements sent outside a transaction and inside one counted apart. */
class Counted implements Database {
  outside = 0;
  inside = 0;
  readonly kind: Database['kind'];
  constructor(private readonly db: Database) {
    this.kind = db.kind;
  }

  query(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    this.outside++;
    return this.db.query(sql, params);
  }

  transaction<T>(work: (tx: DatabaseTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work({
      query: (sql, params) => {
        this.inside++;
        return tx.query(sql, params);
      },
      exec: (script) => tx.exec(script),
      queryBytes: (sql, params) => tx.queryBytes(sql, params),
    }));
  }

  listen(channel: string, handler: (payload: string) => void, restored?: () => void): Promise<() => Promise<void>> {
    return this.db.listen(channel, handler, restored);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  reset(): void {
    this.outside = 0;
    this.inside = 0;
  }
}

describe.each(DATABASE_KINDS)('codes: the asker\'s session read in the batch alone, on %s', (kind) => {
  let counted: Counted;
  let server: TestServer;
  let tech: Person;
  let techSecret: string;
  /** A technician of the group signed in with the password alone (no authenticator). */
  let member: Person;
  const vault = randomBytes(16).toString('hex');
  const entries = [randomUUID(), randomUUID()];
  const entry = entries[0] ?? '';

  beforeAll(async () => {
    counted = new Counted(await databases.open(kind));
    server = await startTestServer(counted);
    const owner = await registerOwner(server);
    tech = await invitePerson(server, owner, 'admin');
    member = await invitePerson(server, owner, 'member');
    const group = randomUUID();
    await serverCodeEntries(server, owner, tech, vault, group, entries);
    await server.db.transaction(async (tx) => {
      const vaultUser = randomUUID();
      await putPerson(tx, vault, { vaultUser, accountId: member.user.id, role: 'technician', disabled: false });
      await putMembership(tx, vault, { groupId: group, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
    });
    techSecret = (await tech.client.ok('mfaEnrolStart', {})).secret;
    await tech.client.ok('mfaEnrolConfirm', { code: authenticatorCode(techSecret, server.clock.now()) });
  }, 120_000);
  afterAll(async () => server?.close());

  /** A fresh session of the member's, on a device of its own. */
  async function memberSession(): Promise<TestClient> {
    const client = new TestClient(server.url);
    expect((await client.login(member.username, member.password)).secondStep).toBe('done');
    return client;
  }

  /** The error code of a codes call made with these headers and this body, or 'ok'. */
  async function codesWith(headers: Record<string, string>, body: string): Promise<string> {
    const spec = SERVER_ROUTES.codes;
    const raw = await new TestClient(server.url).raw(spec.method, spec.path, body, headers);
    const reply = raw.body as { ok: boolean; error?: { code: string } };
    return reply.ok ? 'ok' : reply.error?.code ?? '?';
  }

  it('reads a code\'s session in its batch\'s transaction alone: no statement outside it', async () => {
    const client = await memberSession();
    expect((await client.call('codes', { vault, entry })).ok).toBe(true);
    counted.reset();
    expect((await client.call('codes', { vault, entry: entries[1] ?? '' })).ok).toBe(true);
    // Before, the request's own session read (one statement outside the batch) came first.
    expect(counted.outside).toBe(0);
    // The batch's: its vaults and askers held, access and standings read under the audit's lock, counts, audit rows.
    expect(counted.inside).toBe(4);
  });

  it('has a code asked with an access token no session holds take neither the audit\'s lock nor its round trip', async () => {
    const client = await memberSession();
    const stranger = { authorization: `Bearer ${randomBytes(32).toString('base64url')}`, [DEVICE_HEADER]: client.deviceId };
    counted.reset();
    expect(await codesWith(stranger, JSON.stringify({ vault, entry }))).toBe('UNAUTHORIZED');
    expect(counted.outside).toBe(0);
    // Its vaults and askers held, and nothing after: a caller who never signed in does not queue on the audit's
    // lock beside the batches of those who did.
    expect(counted.inside).toBe(1);
  });

  it('judges the session as a fresh request would: another device, signed out, an expired access token', async () => {
    const client = await memberSession();
    const body = JSON.stringify({ vault, entry });
    const headers = client.authHeaders();
    expect(await codesWith(headers, body)).toBe('ok');
    expect(await codesWith({ ...headers, [DEVICE_HEADER]: randomBytes(16).toString('hex') }, body)).toBe('UNAUTHORIZED');
    expect(await codesWith({ authorization: headers.authorization ?? '' }, body)).toBe('UNAUTHORIZED');
    const expiring = await memberSession();
    server.clock.advance(ACCESS_TTL_MS);
    expect(await client.fails('codes', { vault, entry })).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('refresh') as unknown });
    expect(await expiring.fails('codes', { vault, entry })).toMatchObject({ code: 'UNAUTHORIZED' });
    const fresh = await memberSession();
    await fresh.ok('signOut', {});
    expect(await fresh.fails('codes', { vault, entry })).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('refuses a session whose second step is still to do with MFA_REQUIRED, as every session route does', async () => {
    server.clock.advance(30_000);
    const client = new TestClient(server.url);
    expect((await client.login(tech.username, tech.password)).secondStep).toBe('code');
    expect(await client.fails('codes', { vault, entry })).toMatchObject({ code: 'MFA_REQUIRED' });
    expect(await client.ok('mfaVerify', { code: authenticatorCode(techSecret, server.clock.now()) })).toEqual({ secondStep: 'done' });
    expect((await client.call('codes', { vault, entry })).ok).toBe(true);
  });

  it('tells a body it refuses only to a session that stands', async () => {
    const client = await memberSession();
    const bad = JSON.stringify({ vault, entry: 'not an id' });
    expect(await codesWith(client.authHeaders(), bad)).toBe('INVALID_INPUT');
    expect(await codesWith({}, bad)).toBe('UNAUTHORIZED');
    expect(await codesWith({ authorization: `Bearer cva_${randomBytes(24).toString('base64url')}`, [DEVICE_HEADER]: client.deviceId }, bad)).toBe('UNAUTHORIZED');
    server.clock.advance(30_000);
    const pending = new TestClient(server.url);
    expect((await pending.login(tech.username, tech.password)).secondStep).toBe('code');
    expect(await codesWith(pending.authHeaders(), bad)).toBe('MFA_REQUIRED');
  });

  it('touches a session in use, as authenticate does: its idle time starts again', async () => {
    const client = await memberSession();
    const lastUse = async (): Promise<number> => {
      const [row] = await server.db.query('SELECT refresh_expires_at FROM sessions WHERE user_id = $1 ORDER BY authenticated_at DESC LIMIT 1', [member.user.id]);
      if (row === undefined) throw new Error('no session');
      return int(row, 'refresh_expires_at') - REFRESH_TTL_MS;
    };
    const signedIn = await lastUse();
    server.clock.advance(2 * 60_000);
    expect((await client.call('codes', { vault, entry })).ok).toBe(true);
    expect(await lastUse()).toBe(server.clock.now());
    expect(await lastUse()).toBeGreaterThan(signedIn);
  });
});
