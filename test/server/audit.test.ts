/**
 * The server's own audit, on PostgreSQL and on PGlite: what sign-ins, sign-outs, a copied
 * refresh token and a password change leave in it, in order; the chain and the signatures
 * check; a changed, removed or re-signed event is found; appends racing from many
 * connections still make one unbroken chain; and nothing typed at a failed sign-in is kept.
 */
import { randomBytes, generateKeyPairSync, sign, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, recordAudit, verifyAudit } from '../../server/audit';
import { text, type Row } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, uniqueName, uniquePassword, type TestServer } from './support';

const databases = useTestDatabases();

async function auditRows(server: TestServer): Promise<Row[]> {
  return server.db.query('SELECT * FROM server_audit ORDER BY seq');
}

describe.each(DATABASE_KINDS)('the server audit on %s', (kind) => {
  let server: TestServer;
  const typedNames: string[] = [];
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    const owner = await registerOwner(server);
    const person = await invitePerson(server, owner);
    // A forged finish against a real person's record, and one for a name nobody has.
    const client = new TestClient(server.url);
    const forged = await client.loginStart(person.username, uniquePassword());
    await client.fails('loginFinish', { attemptId: forged.attemptId, finishLoginRequest: randomBytes(64).toString('base64url'), deviceId: client.deviceId });
    const nobody = `${uniqueName('typed')}-${uniquePassword()}`;
    typedNames.push(nobody);
    const unknown = await client.loginStart(nobody, uniquePassword());
    await client.fails('loginFinish', { attemptId: unknown.attemptId, finishLoginRequest: randomBytes(64).toString('base64url'), deviceId: client.deviceId });
    // A refresh token used twice.
    const first = person.client.tokens;
    if (first === undefined) throw new Error('not signed in');
    await person.client.ok('refresh', { refreshToken: first.refreshToken, deviceId: person.client.deviceId });
    await person.client.fails('refresh', { refreshToken: first.refreshToken, deviceId: person.client.deviceId });
    await person.client.login(person.username, person.password);
    await person.client.changePassword(uniquePassword());
    await person.client.ok('signOutEverywhere', {});
  }, 120_000);
  afterAll(async () => server?.close());

  it('records each act, in order, with whom it concerns', async () => {
    const rows = await auditRows(server);
    expect(rows.map((row) => text(row, 'kind'))).toEqual([
      'account.registered', 'sign-in.succeeded', // the owner
      'invite.created', 'account.registered', 'sign-in.succeeded', // the person
      'sign-in.failed', 'sign-in.failed', // a forged proof for the person, one for nobody
      'session.copy-detected',
      'sign-in.succeeded', 'password.changed', 'session.signed-out',
    ]);
    const failed = rows.filter((row) => row.kind === 'sign-in.failed');
    expect(failed[0]?.subject_id).toEqual(rows[3]?.subject_id);
    expect(failed[1]?.subject_id).toBeNull();
    expect(failed[0]?.source).toBe('127.0.0.1');
    expect(rows.at(-1)?.detail).toBe('{"everywhere":true,"sessions":1}');
  });

  it('keeps no name typed at a failed sign-in', async () => {
    const dump = JSON.stringify(await auditRows(server));
    for (const name of typedNames) expect(dump).not.toContain(name);
  });

  it('checks as one unbroken, signed chain', async () => {
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toEqual({ ok: true, events: 11 });
    expect((await auditRows(server))[0]?.prev_hash).toBe(GENESIS_HASH);
  });

  it('finds an event that was changed, one that was removed, and one re-signed with another key', async () => {
    const [row] = await server.db.query('SELECT * FROM server_audit WHERE seq = 3');
    if (row === undefined) throw new Error('no event 3');
    await server.db.query(`UPDATE server_audit SET detail = '{"role":"owner"}' WHERE seq = 3`);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toEqual({ ok: false, seq: 3, reason: 'the event was changed' });

    // Re-hashed to hide the change, but signed with a key that is not the server's.
    const { privateKey } = generateKeyPairSync('ed25519');
    const fields = [3, row.at, row.kind, row.actor_id, row.subject_id, row.source, '{"role":"owner"}', row.prev_hash].map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v));
    const hash = createHash('sha256').update(JSON.stringify(fields), 'utf8').digest('hex');
    await server.db.query('UPDATE server_audit SET hash = $1, signature = $2 WHERE seq = 3', [hash, sign(null, Buffer.from(hash, 'hex'), privateKey).toString('base64url')]);
    const forged = await verifyAudit(server.db, server.keys.auditPublicKey);
    expect(forged).toEqual({ ok: false, seq: 3, reason: 'the signature is not the server\'s' });

    await server.db.query('UPDATE server_audit SET detail = $1, hash = $2, signature = $3 WHERE seq = 3', [row.detail, row.hash, row.signature]);
    await server.db.query('DELETE FROM server_audit WHERE seq = 3');
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toEqual({ ok: false, seq: 3, reason: 'an event is missing' });
    await server.db.query(
      'INSERT INTO server_audit (seq, at, kind, actor_id, subject_id, source, detail, prev_hash, hash, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      [row.seq, row.at, row.kind, row.actor_id, row.subject_id, row.source, row.detail, row.prev_hash, row.hash, row.signature],
    );
    expect((await verifyAudit(server.db, server.keys.auditPublicKey)).ok).toBe(true);
  });

  it('makes one chain of appends racing from many connections', async () => {
    const ctx = { db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } };
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordAudit(ctx, { kind: 'session.signed-out', detail: { race: i } })));
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toEqual({ ok: true, events: 31 });
  });
});
