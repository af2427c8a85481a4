/**
 * Automation tokens (issue #14), over real HTTP on PostgreSQL and on PGlite: an owner or admin
 * makes one (shown once, kept only as SHA-256, listed without it); it reaches only the routes its
 * scopes name (a pull-only token pulls and is refused a push, account, MFA and admin routes and
 * the stream), only its vaults, and never starts a vault; it skips the second step its maker's
 * sessions need; it ends at its expiry (the test's clock) and at once when revoked; members make,
 * list and revoke none, admins never revoke an owner's; each use moves its last use and is
 * audited at most once a minute, and no token reaches the audit or the log.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  parseServerReply, SERVER_ROUTES, SYNC_STREAM_PATH, type ServerRouteInput, type ServerRouteName, type ServerRouteOutput,
} from '../../shared/api/server-contract';
import type { ErrorInfo } from '../../shared/errors';
import { type EntryRecord, type ReplicaBatch } from '../../shared/sync/records';
import { verifyAudit } from '../../server/audit';
import { text } from '../../server/store/db';
import { bindToVault } from './people';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { signedBatch } from './signers';
import { authenticatorCode, invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The vault user every record here is signed as: the vault's creator binds itself to it (schema 14). */
const AUTHOR = randomUUID();

function vaultId(): string {
  return randomBytes(16).toString('hex');
}

function entry(): EntryRecord {
  const someone = randomUUID();
  const b64 = (value: string): string => Buffer.from(value).toString('base64url');
  return {
    kind: 'entry', id: randomUUID(), revision: 1, base: 0, customer: someone, group: someone, keyVersion: 1, lookup: b64('l'), sealedSummary: b64('s'),
    sealedDetails: b64('d'), createdAt: 1, updatedAt: 1, deletedAt: null, author: AUTHOR, signerKey: AUTHOR, signature: b64('sig'),
  };
}

function batch(vault: string): { batch: ReplicaBatch } {
  return { batch: signedBatch(vault, [entry()]) };
}

type Outcome<N extends ServerRouteName> = { ok: true; value: ServerRouteOutput<N>; status: number } | { ok: false; error: ErrorInfo; status: number };

/** A route called as a script would: `Authorization: Bearer cvt_…`, no device, no session. */
async function withToken<N extends ServerRouteName>(server: TestServer, token: string, name: N, input: ServerRouteInput<N>): Promise<Outcome<N>> {
  const spec = SERVER_ROUTES[name];
  const raw = await new TestClient(server.url).raw(spec.method, spec.path, spec.method === 'GET' ? undefined : JSON.stringify(input ?? {}), { authorization: `Bearer ${token}` });
  return { ...parseServerReply(name, raw.body), status: raw.status };
}

function refusal<N extends ServerRouteName>(outcome: Outcome<N>): ErrorInfo & { status: number } {
  if (outcome.ok) throw new Error('a call with a token succeeded where it should fail');
  return { ...outcome.error, status: outcome.status };
}

function value<N extends ServerRouteName>(outcome: Outcome<N>): ServerRouteOutput<N> {
  if (!outcome.ok) throw new Error(`a call with a token failed: ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.value;
}

/** A fresh sign-in: making a token needs one from the last 10 minutes, and the tests move the clock. */
async function signIn(person: Person): Promise<void> {
  await person.client.login(person.username, person.password);
}

describe.each(DATABASE_KINDS)('automation tokens on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let admin: Person;
  let member: Person;
  let vault: string;
  let other: string;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
    admin = await invitePerson(server, owner, 'admin');
    member = await invitePerson(server, owner);
    vault = vaultId();
    other = vaultId();
    await owner.client.ok('syncPush', batch(vault));
    await owner.client.ok('syncPush', batch(other));
    // Only the vault's people pull it (schema 14): the owner's desktop says who the admin is.
    await bindToVault(owner, AUTHOR, vault, admin, 'admin');
  }, 120_000);

  it('are made by an owner, shown once with a warning, kept only as SHA-256, and listed without the token', async () => {
    await signIn(owner);
    const made = await owner.client.ok('tokenCreate', { name: 'Nightly backup', scopes: ['sync.pull'], vaults: [vault], expiresInDays: 30 });
    expect(made.token).toMatch(/^cvt_[A-Za-z0-9_-]{43}$/);
    expect(made.warning).toMatch(/without a second step \(MFA\)/);
    expect(made.view).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown, name: 'Nightly backup', scopes: ['sync.pull'], vaults: [vault],
      createdBy: { id: owner.user.id, username: owner.username }, createdAt: server.clock.now(), expiresAt: server.clock.now() + 30 * DAY,
      lastUsedAt: null, lastUsedFrom: null, revokedAt: null,
    });
    const rows = await server.db.query('SELECT row_to_json(t)::text AS r, token_hash FROM automation_tokens t WHERE id = $1', [made.view.id]);
    expect(rows).toHaveLength(1);
    expect(text(rows[0] ?? {}, 'token_hash')).toBe(createHash('sha256').update(made.token).digest('hex'));
    const secret = made.token.slice('cvt_'.length);
    expect(text(rows[0] ?? {}, 'r')).not.toContain(secret);
    const listed = await owner.client.ok('tokensList', undefined);
    expect(listed.tokens.find((t) => t.id === made.view.id)).toEqual(made.view);
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it('reach only the routes their scopes name: a pull-only token pulls, and is refused a push, account, MFA and admin routes and the stream', async () => {
    await signIn(owner);
    const { token } = await owner.client.ok('tokenCreate', { name: 'read only', scopes: ['sync.pull'], expiresInDays: 7 });
    // The entry, and the user record binding the admin.
    expect(value(await withToken(server, token, 'syncPull', { vault, since: 0 })).records.map((r) => r.record.kind)).toEqual(['entry', 'user']);
    expect(refusal(await withToken(server, token, 'syncPush', batch(vault)))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(value(await withToken(server, token, 'syncPull', { vault, since: 0 })).upTo).toBe(2);
    const refused = await Promise.all([
      withToken(server, token, 'session', undefined), withToken(server, token, 'accountKeys', undefined), withToken(server, token, 'mfaStatus', undefined),
      withToken(server, token, 'signOutEverywhere', {}), withToken(server, token, 'inviteCreate', { username: 'someone', role: 'member' }),
      withToken(server, token, 'tokenCreate', { name: 'more', scopes: ['sync.push'], expiresInDays: 1 }), withToken(server, token, 'tokensList', undefined),
      withToken(server, token, 'adminDevicesList', { userId: owner.user.id }), withToken(server, token, 'smtpGet', undefined),
    ]);
    for (const outcome of refused) expect(refusal(outcome)).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const stream = await new TestClient(server.url).raw('GET', `${SYNC_STREAM_PATH}?vault=${vault}`, undefined, { authorization: `Bearer ${token}` });
    expect(stream).toMatchObject({ status: 403, body: { ok: false, error: { code: 'FORBIDDEN' } } });
    // A made-up token is no session either.
    expect(refusal(await withToken(server, `cvt_${randomBytes(32).toString('base64url')}`, 'syncPull', { vault, since: 0 }))).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('push with the push scope, only to their vaults, and never start a vault', async () => {
    await signIn(owner);
    const limited = (await owner.client.ok('tokenCreate', { name: 'importer', scopes: ['sync.push'], vaults: [vault], expiresInDays: 7 })).token;
    expect(value(await withToken(server, limited, 'syncPush', batch(vault)))).toMatchObject({ accepted: 1, conflicts: [] });
    expect(refusal(await withToken(server, limited, 'syncPush', batch(other)))).toMatchObject({ code: 'FORBIDDEN' });
    expect(refusal(await withToken(server, limited, 'syncPull', { vault, since: 0 }))).toMatchObject({ code: 'FORBIDDEN' });
    const anyVault = (await owner.client.ok('tokenCreate', { name: 'both', scopes: ['sync.pull', 'sync.push'], expiresInDays: 7 })).token;
    expect(value(await withToken(server, anyVault, 'syncPush', batch(other)))).toMatchObject({ accepted: 1 });
    const fresh = vaultId();
    expect(refusal(await withToken(server, anyVault, 'syncPush', batch(fresh)))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.fails('syncPull', { vault: fresh, since: 0 })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('skip the second step their maker\'s sessions need', async () => {
    const person = await invitePerson(server, owner, 'admin');
    await bindToVault(owner, AUTHOR, vault, person, 'admin');
    const { secret } = await person.client.ok('mfaEnrolStart', {});
    await person.client.ok('mfaEnrolConfirm', { code: authenticatorCode(secret, server.clock.now()) });
    const { token } = await person.client.ok('tokenCreate', { name: 'cron', scopes: ['sync.pull'], expiresInDays: 1 });
    await person.client.login(person.username, person.password);
    expect(await person.client.fails('syncPull', { vault, since: 0 })).toMatchObject({ code: 'MFA_REQUIRED' });
    expect(value(await withToken(server, token, 'syncPull', { vault, since: 0 })).records.length).toBeGreaterThan(0);
  });

  it('refuse bad input: no scope, an unknown one, one twice, more than a year, a vault the server does not hold', async () => {
    await signIn(owner);
    const bad: unknown[] = [
      { name: 'x', scopes: [], expiresInDays: 1 }, { name: 'x', scopes: ['codes.reveal'], expiresInDays: 1 }, { name: 'x', scopes: ['sync.pull', 'sync.pull'], expiresInDays: 1 },
      { name: 'x', scopes: ['sync.pull'], expiresInDays: 366 }, { name: 'x', scopes: ['sync.pull'] }, { name: '', scopes: ['sync.pull'], expiresInDays: 1 },
    ];
    for (const body of bad) {
      const reply = await owner.client.raw('POST', SERVER_ROUTES.tokenCreate.path, JSON.stringify(body), owner.client.authHeaders());
      expect(reply).toMatchObject({ status: 400, body: { ok: false, error: { code: 'INVALID_INPUT' } } });
    }
    expect(await owner.client.fails('tokenCreate', { name: 'x', scopes: ['sync.pull'], vaults: [vaultId()], expiresInDays: 1 })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('are made only from a sign-in of the last 10 minutes, not a session kept up by refreshes', async () => {
    await signIn(owner);
    server.clock.advance(11 * MINUTE);
    const tokens = owner.client.tokens;
    if (tokens === undefined) throw new Error('not signed in');
    owner.client.tokens = (await owner.client.ok('refresh', { refreshToken: tokens.refreshToken, deviceId: owner.client.deviceId })).tokens;
    expect(await owner.client.fails('tokenCreate', { name: 'late', scopes: ['sync.pull'], expiresInDays: 1 })).toMatchObject({ code: 'UNAUTHORIZED' });
    await signIn(owner);
    await owner.client.ok('tokenCreate', { name: 'in time', scopes: ['sync.pull'], expiresInDays: 1 });
  });

  it('end at their expiry, by the server\'s clock', async () => {
    await signIn(owner);
    const { token } = await owner.client.ok('tokenCreate', { name: 'one day', scopes: ['sync.pull'], expiresInDays: 1 });
    server.clock.advance(DAY - 1);
    expect(value(await withToken(server, token, 'syncPull', { vault, since: 0 })).upTo).toBeGreaterThan(0);
    server.clock.advance(1);
    expect(refusal(await withToken(server, token, 'syncPull', { vault, since: 0 }))).toMatchObject({ code: 'UNAUTHORIZED', status: 401, message: expect.stringMatching(/expired/) as unknown });
  });

  it('end at once when revoked: by their maker, an owner for anyone, an admin for anyone but an owner', async () => {
    await signIn(owner);
    await signIn(admin);
    const owners = await owner.client.ok('tokenCreate', { name: 'owner\'s', scopes: ['sync.pull'], expiresInDays: 7 });
    const admins = await admin.client.ok('tokenCreate', { name: 'admin\'s', scopes: ['sync.pull'], expiresInDays: 7 });
    expect(value(await withToken(server, admins.token, 'syncPull', { vault, since: 0 })).upTo).toBeGreaterThan(0);
    // An admin neither sees nor revokes an owner's.
    expect((await admin.client.ok('tokensList', undefined)).tokens.map((t) => t.id)).not.toContain(owners.view.id);
    expect(await admin.client.fails('tokenRevoke', { id: owners.view.id })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.ok('tokenRevoke', { id: admins.view.id })).toEqual({ revoked: true });
    expect(refusal(await withToken(server, admins.token, 'syncPull', { vault, since: 0 }))).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/revoked/) as unknown });
    expect(await owner.client.ok('tokenRevoke', { id: admins.view.id })).toEqual({ revoked: false });
    expect(await owner.client.ok('tokenRevoke', { id: owners.view.id })).toEqual({ revoked: true });
    const listed = (await owner.client.ok('tokensList', undefined)).tokens.find((t) => t.id === admins.view.id);
    expect(listed).toMatchObject({ revokedAt: server.clock.now(), createdBy: { id: admin.user.id, username: admin.username } });
    expect(await owner.client.fails('tokenRevoke', { id: randomBytes(16).toString('hex') })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('stop working when their maker is no longer an owner or admin', async () => {
    const demoted = await invitePerson(server, owner, 'admin');
    await bindToVault(owner, AUTHOR, vault, demoted, 'admin');
    const { token } = await demoted.client.ok('tokenCreate', { name: 'theirs', scopes: ['sync.pull'], expiresInDays: 7 });
    expect(value(await withToken(server, token, 'syncPull', { vault, since: 0 })).upTo).toBeGreaterThan(0);
    // As a role change would leave it (the server has no route for one yet).
    await server.db.query("UPDATE users SET role = 'member' WHERE id = $1", [demoted.user.id]);
    expect(refusal(await withToken(server, token, 'syncPull', { vault, since: 0 }))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('are never made, listed or revoked by a member', async () => {
    await signIn(owner);
    await signIn(member);
    const owners = await owner.client.ok('tokenCreate', { name: 'kept', scopes: ['sync.pull'], expiresInDays: 7 });
    expect(await member.client.fails('tokenCreate', { name: 'mine', scopes: ['sync.pull'], expiresInDays: 1 })).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(await member.client.fails('tokensList', undefined)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await member.client.fails('tokenRevoke', { id: owners.view.id })).toMatchObject({ code: 'NOT_FOUND' });
    expect(value(await withToken(server, owners.token, 'syncPull', { vault, since: 0 })).upTo).toBeGreaterThan(0);
  });

  it('note every use and audit it at most once a minute; made and revoked are audited; no token in the audit or the log', async () => {
    await signIn(owner);
    const made = await owner.client.ok('tokenCreate', { name: 'audited', scopes: ['sync.pull'], expiresInDays: 7 });
    // Several at the same moment: one of them is audited.
    for (const outcome of await Promise.all([0, 1, 2, 3].map(() => withToken(server, made.token, 'syncPull', { vault, since: 0 })))) value(outcome);
    server.clock.advance(30_000);
    value(await withToken(server, made.token, 'syncPull', { vault, since: 0 }));
    const lastUse = server.clock.now();
    expect((await owner.client.ok('tokensList', undefined)).tokens.find((t) => t.id === made.view.id)).toMatchObject({ lastUsedAt: lastUse, lastUsedFrom: '127.0.0.1' });
    server.clock.advance(MINUTE);
    value(await withToken(server, made.token, 'syncPull', { vault, since: 0 }));
    await signIn(owner);
    await owner.client.ok('tokenRevoke', { id: made.view.id });
    const rows = await server.db.query("SELECT kind, actor_id, subject_id, detail FROM server_audit WHERE detail LIKE $1 ORDER BY seq", [`%${made.view.id}%`]);
    expect(rows.map((row) => text(row, 'kind'))).toEqual(['token.created', 'token.used', 'token.used', 'token.revoked']);
    expect(rows.every((row) => row.actor_id === owner.user.id)).toBe(true);
    expect(JSON.parse(text(rows[0] ?? {}, 'detail'))).toEqual({ token: made.view.id, scopes: 'sync.pull', vaults: 'all', expiresAt: made.view.expiresAt });
    expect(JSON.parse(text(rows[1] ?? {}, 'detail'))).toEqual({ token: made.view.id, scope: 'sync.pull' });
    const secret = made.token.slice('cvt_'.length);
    const audit = await server.db.query('SELECT detail FROM server_audit');
    expect(JSON.stringify(audit)).not.toContain(secret);
    expect(server.logs.join('')).not.toContain(secret);
    expect(await verifyAudit(server.db, server.keys.auditPublicKey)).toMatchObject({ ok: true });
  });
});
