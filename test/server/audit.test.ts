/**
 * The server's own audit, on PostgreSQL and on PGlite: what sign-ins, sign-outs, a copied
 * refresh token and a password change leave in it, in order; the chain and the signatures
 * check; a changed, removed or re-signed event is found; appends racing from many
 * connections still make one unbroken chain; and nothing typed at a failed sign-in is kept.
 * A batch of events (the codes' audit) is signed once, at its last event: an event changed inside
 * it, even re-hashed and re-linked up to that signed one, a batch cut short of its signed end, and
 * unsigned events added at the log's end are all found.
 */
import { randomBytes, generateKeyPairSync, sign, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditBatch, GENESIS_HASH, recordAudit, verifyAudit, type AuditEvent } from '../../server/audit';
import { text, type Row } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, uniqueName, uniquePassword, type TestServer } from './support';

const databases = useTestDatabases();

async function auditRows(server: TestServer): Promise<Row[]> {
  return server.db.query('SELECT * FROM server_audit ORDER BY seq');
}

/** Writes `row` (its columns as stored) straight into the audit, as someone with the database would. */
async function insertRow(server: TestServer, row: Row): Promise<void> {
  await server.db.query(
    'INSERT INTO server_audit (seq, at, kind, actor_id, subject_id, source, detail, prev_hash, hash, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
    [row.seq, row.at, row.kind, row.actor_id, row.subject_id, row.source, row.detail, row.prev_hash, row.hash, row.signature],
  );
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
    await insertRow(server, row);
    expect((await verifyAudit(server.db, server.keys.auditPublicKey)).ok).toBe(true);
  });

  it('makes one chain of appends racing from many connections', async () => {
    const ctx = { db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } };
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordAudit(ctx, { kind: 'session.signed-out', detail: { race: i } })));
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toEqual({ ok: true, events: 31 });
  });
});

/** An event's hash as the server makes it (server/audit.ts eventHash), from a row as stored. */
function rowHash(row: Row, prevHash: string, detail: unknown = row.detail): string {
  const fields = [Number(row.seq), Number(row.at), row.kind, row.actor_id, row.subject_id, row.source, detail, prevHash];
  return createHash('sha256').update(JSON.stringify(fields), 'utf8').digest('hex');
}

describe.each(DATABASE_KINDS)('the server audit\'s batches on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
  }, 120_000);
  afterAll(async () => server?.close());

  const ctx = (): Parameters<typeof appendAuditBatch>[1] => ({ keys: server.keys, now: server.clock.now });
  const events = (n: number, from: number): AuditEvent[] => Array.from({ length: n }, (_, i) => ({ kind: 'codes.computed', actorId: 'acct', source: '127.0.0.1', detail: { vault: 'v', entry: `e${from + i}`, step: 7 } }));
  const check = async (): Promise<Awaited<ReturnType<typeof verifyAudit>>> => verifyAudit(server.db, server.keys.auditPublicKey);
  /** Puts rows back as they were read (seq order). */
  async function restore(rows: readonly Row[]): Promise<void> {
    for (const row of rows) {
      await server.db.query('UPDATE server_audit SET detail = $1, prev_hash = $2, hash = $3, signature = $4 WHERE seq = $5', [row.detail, row.prev_hash, row.hash, row.signature, row.seq]);
    }
  }

  it('signs a batch once, at its last event, and checks it as one chain with single appends', async () => {
    await recordAudit({ db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } }, { kind: 'sign-in.succeeded', actorId: 'someone' });
    await server.db.transaction((tx) => appendAuditBatch(tx, ctx(), events(4, 0)));
    await server.db.transaction((tx) => appendAuditBatch(tx, ctx(), events(1, 4)));
    await server.db.transaction((tx) => appendAuditBatch(tx, ctx(), events(3, 5)));
    const rows = await auditRows(server);
    expect(rows.map((row) => row.signature !== '')).toEqual([true, false, false, false, true, true, false, false, true]);
    expect(await check()).toEqual({ ok: true, events: 9 });
  });

  it('finds an event changed inside a batch, and one re-hashed and re-linked up to its batch\'s signed end', async () => {
    const rows = await auditRows(server);
    const [, second, third, fourth, fifth] = rows;
    if (second === undefined || third === undefined || fourth === undefined || fifth === undefined) throw new Error('the first test wrote no batch');
    const changed = '{"entry":"another","step":7,"vault":"v"}';
    await server.db.query('UPDATE server_audit SET detail = $1 WHERE seq = 3', [changed]);
    expect(await check()).toEqual({ ok: false, seq: 3, reason: 'the event was changed' });
    // Re-hashed: the next event's link no longer holds.
    const hash3 = rowHash(third, String(third.prev_hash), changed);
    await server.db.query('UPDATE server_audit SET hash = $1 WHERE seq = 3', [hash3]);
    expect(await check()).toEqual({ ok: false, seq: 4, reason: 'the link to the event before is broken' });
    // Re-linked to the batch's end: its signature is over the old hash.
    const hash4 = rowHash(fourth, hash3);
    const hash5 = rowHash(fifth, hash4);
    await server.db.query('UPDATE server_audit SET prev_hash = $1, hash = $2 WHERE seq = 4', [hash3, hash4]);
    await server.db.query('UPDATE server_audit SET prev_hash = $1, hash = $2 WHERE seq = 5', [hash4, hash5]);
    expect(await check()).toEqual({ ok: false, seq: 5, reason: 'the signature is not the server\'s' });
    // The signed end stripped of its signature too: the next batch's link is over the old hash.
    await server.db.query('UPDATE server_audit SET signature = \'\' WHERE seq = 5');
    expect(await check()).toEqual({ ok: false, seq: 6, reason: 'the link to the event before is broken' });
    await restore(rows);
    expect(await check()).toEqual({ ok: true, events: 9 });
  });

  it('finds a log cut inside a batch, its signed end removed, and unsigned events added at the end', async () => {
    const rows = await auditRows(server);
    const last = rows.at(-1);
    if (last === undefined) throw new Error('no events');
    await server.db.query('DELETE FROM server_audit WHERE seq = $1', [last.seq]);
    expect(await check()).toEqual({ ok: false, seq: 7, reason: 'the events from here on are signed by no later event' });
    await insertRow(server, last);
    expect(await check()).toEqual({ ok: true, events: 9 });
    // Slipped in after the last batch, linked and hashed as the server would, but unsigned.
    const added: Row = { ...last, seq: Number(last.seq) + 1, detail: '{"entry":"added","step":7,"vault":"v"}' };
    await insertRow(server, { ...added, prev_hash: last.hash, hash: rowHash(added, String(last.hash)), signature: '' });
    expect(await check()).toEqual({ ok: false, seq: 10, reason: 'the events from here on are signed by no later event' });
    await server.db.query('DELETE FROM server_audit WHERE seq = 10');
    // A one-event batch's signature stripped: nothing after it vouches for it.
    await server.db.query('UPDATE server_audit SET signature = \'\' WHERE seq = 9');
    expect(await check()).toEqual({ ok: false, seq: 7, reason: 'the events from here on are signed by no later event' });
    await restore(rows);
    expect(await check()).toEqual({ ok: true, events: 9 });
  });
  it('takes no unsigned events slipped in before the server\'s next append as that append\'s', async () => {
    const rows = await auditRows(server);
    const last = rows.at(-1);
    if (last === undefined) throw new Error('no events');
    const insert = (row: Row, prevHash: string): Promise<void> => insertRow(server, { ...row, prev_hash: prevHash, hash: rowHash(row, prevHash), signature: '' });
    // One slipped in at the end, linked as the server would; then the server appends a single event after it, and a batch.
    await insert({ ...last, seq: 10, kind: 'grant.revoked', detail: '{"permission":"x"}' }, String(last.hash));
    await recordAudit({ db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } }, { kind: 'sign-in.succeeded', actorId: 'after' });
    expect(await check()).toEqual({ ok: false, seq: 11, reason: 'the signature is not the server\'s' });
    await server.db.transaction((tx) => appendAuditBatch(tx, ctx(), events(2, 20)));
    expect(await check()).toEqual({ ok: false, seq: 11, reason: 'the signature is not the server\'s' });
    await server.db.query('DELETE FROM server_audit WHERE seq > 9');
    // The whole log rewritten unsigned from its first event, then a batch of the server's after it.
    let prevHash = GENESIS_HASH;
    for (const row of rows) {
      const detail = Number(row.seq) === 1 ? '{"rewritten":true}' : row.detail;
      const hash = rowHash(row, prevHash, detail);
      await server.db.query('UPDATE server_audit SET detail = $1, prev_hash = $2, hash = $3, signature = \'\' WHERE seq = $4', [detail, prevHash, hash, row.seq]);
      prevHash = hash;
    }
    await server.db.transaction((tx) => appendAuditBatch(tx, ctx(), events(3, 30)));
    expect(await check()).toEqual({ ok: false, seq: 12, reason: 'the signature is not the server\'s' });
    await server.db.query('DELETE FROM server_audit WHERE seq > 9');
    await restore(rows);
    expect(await check()).toEqual({ ok: true, events: 9 });
  });

  it('takes a signature made over an event\'s hash alone (before batch signatures) for that event only', async () => {
    const rows = await auditRows(server);
    const [single, batchEnd] = [rows[5], rows[8]];
    if (single === undefined || batchEnd === undefined) throw new Error('the first test wrote no batch');
    const legacy = (hash: unknown): string => sign(null, Buffer.from(String(hash), 'hex'), server.keys.auditKey).toString('base64url');
    // A single append's event signed as before: it verifies.
    await server.db.query('UPDATE server_audit SET signature = $1 WHERE seq = 6', [legacy(single.hash)]);
    expect(await check()).toEqual({ ok: true, events: 9 });
    // The same kind of signature on a batch's last event vouches for no event before it.
    await server.db.query('UPDATE server_audit SET signature = $1 WHERE seq = 9', [legacy(batchEnd.hash)]);
    expect(await check()).toEqual({ ok: false, seq: 9, reason: 'the signature is not the server\'s' });
    await restore(rows);
    // A signature with stray characters Node's decoder would skip is not the one the server wrote.
    await server.db.query('UPDATE server_audit SET signature = $1 WHERE seq = 6', [`${String(single.signature)}!!`]);
    expect(await check()).toEqual({ ok: false, seq: 6, reason: 'the signature is not the server\'s' });
    await restore(rows);
    expect(await check()).toEqual({ ok: true, events: 9 });
  });
  it('finds events outside the sequence the walk reads: before its first, past the safe range, a second of one number', async () => {
    const rows = await auditRows(server);
    const last = rows.at(-1);
    if (last === undefined) throw new Error('no events');
    const insert = async (seq: string, detail: string): Promise<void> => {
      const row: Row = { ...last, seq, detail };
      await insertRow(server, { ...row, kind: 'grant.given', prev_hash: GENESIS_HASH, hash: rowHash(row, GENESIS_HASH), signature: '' });
    };
    for (const seq of ['0', '-5', String(Number.MAX_SAFE_INTEGER + 10)]) {
      await insert(seq, '{"forged":true}');
      expect(await check()).toEqual({ ok: false, seq: 10, reason: 'events lie outside the sequence' });
      await server.db.query('DELETE FROM server_audit WHERE seq = $1', [seq]);
    }
    // A second row of one number, beside the one the walk reads (the table's key dropped first).
    const fifth = rows[4];
    if (fifth === undefined) throw new Error('no event 5');
    await server.db.query('ALTER TABLE server_audit DROP CONSTRAINT server_audit_pkey');
    await insert('5', '{"beside":true}');
    // Read beside its twin here (at a page's end, 1,000 rows, only the count after the walk would see it).
    expect(await check()).toMatchObject({ ok: false, seq: 5 });
    await server.db.query('DELETE FROM server_audit WHERE seq = 5 AND detail = $1', ['{"beside":true}']);
    // One with no number at all.
    await server.db.query('ALTER TABLE server_audit ALTER COLUMN seq DROP NOT NULL');
    await insertRow(server, { ...last, seq: null, kind: 'grant.given', detail: '{"unnumbered":true}', prev_hash: GENESIS_HASH, hash: GENESIS_HASH, signature: '' });
    expect(await check()).toEqual({ ok: false, seq: 10, reason: 'events lie outside the sequence' });
    await server.db.query('DELETE FROM server_audit WHERE seq IS NULL');
    await server.db.query('ALTER TABLE server_audit ADD PRIMARY KEY (seq)');
    expect(await check()).toEqual({ ok: true, events: 9 });
  });
});
