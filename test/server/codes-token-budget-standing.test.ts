/**
 * Server-computed codes and who stands behind an ask (review D1 and D5; server/codes/batch.ts):
 *  - every ask counts against its account's budget: many automation tokens of one account, and a
 *    token beside its maker's session, share one `perEntryStep` and one `perMinute`, while the
 *    audit still names the token that asked;
 *  - the asker's standing is read again in the batch's own transaction: a token revoked, or expired,
 *    and a session signed out, after the request was checked but before its batch ran, get the
 *    refusal a fresh request gets (UNAUTHORIZED) and no code, and nothing is audited for them.
 * The interleaving is driven in order, not raced: the request is checked (authenticateToken,
 * authenticate: what the app does before the handler), then the token or session ends, then the
 * ask goes into a batch (computeCode). On PostgreSQL a revocation in flight (written, waiting to
 * append its audit event) when the batch starts is waited for and seen, held on real locks, and so
 * is a session ended in flight (its device removed). Real
 * HTTP on loopback, real PostgreSQL and PGlite, real crypto; the server's clock is injected.
 * Must never: print a key, a code or a token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseServerReply, SERVER_ROUTES, type ServerRouteInput, type ServerRouteName, type ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError, type ErrorInfo } from '../../shared/errors';
import { authenticateToken } from '../../server/auth/automation-tokens';
import { authenticate } from '../../server/auth/sessions';
import { computeCode } from '../../server/codes/service';
import { DEFAULT_THROTTLE_LIMITS, type ServerContext } from '../../server/context';
import { text } from '../../server/store/db';
import { serverCodeEntries } from './code-servers';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const SOURCE = '127.0.0.1';
const DAY = 24 * 60 * 60_000;
/** pg_advisory_xact_lock's key for audit appends (server/store/audit.ts). */
const AUDIT_LOCK = 0x61756474;

type Outcome<N extends ServerRouteName> = { ok: true; value: ServerRouteOutput<N> } | { ok: false; error: ErrorInfo };

/** A route called as a script would: `Authorization: Bearer cvt_…`, no device, no session. */
async function withToken<N extends ServerRouteName>(server: TestServer, token: string, name: N, input: ServerRouteInput<N>): Promise<Outcome<N>> {
  const spec = SERVER_ROUTES[name];
  const raw = await new TestClient(server.url).raw(spec.method, spec.path, JSON.stringify(input ?? {}), { authorization: `Bearer ${token}` });
  return parseServerReply(name, raw.body);
}

/** The refusal's code of a direct computeCode, or 'ok' when it gave a code. */
async function outcomeOf(ask: Promise<unknown>): Promise<string> {
  try {
    await ask;
    return 'ok';
  } catch (error) {
    if (error instanceof CrewvaultError) return error.code;
    throw error;
  }
}

function tally(codes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

describe.each(DATABASE_KINDS)('codes: one budget per account, and the asker\'s standing read in the batch, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  /** A server admin (who may make tokens) and a technician of the vault's group. */
  let tech: Person;
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const entries = [randomUUID(), randomUUID(), randomUUID()];
  const entry = (i: number): string => entries[i] ?? '';

  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
    tech = await invitePerson(server, owner, 'admin');
    await serverCodeEntries(server, owner, tech, vault, group, entries);
  }, 120_000);

  /** The clock a second into a fresh time step, two steps on (so also in a fresh minute). */
  function freshStep(): number {
    const at = (Math.floor(server.clock.now() / 30_000) + 2) * 30_000 + 1_000;
    server.clock.advance(at - server.clock.now());
    return Math.floor(at / 30_000);
  }

  /** A codes token of tech's (a fresh sign-in first: making one needs one from the last 10 minutes). */
  async function codesToken(expiresInDays = 30): Promise<{ token: string; id: string }> {
    await tech.client.login(tech.username, tech.password);
    const made = await tech.client.ok('tokenCreate', { name: `codes ${randomUUID()}`, scopes: ['codes'], vaults: [vault], expiresInDays });
    return { token: made.token, id: made.view.id };
  }

  /** A server context of its own on the same database and clock (its own batcher), with these limits. */
  function contextWith(perEntryStep: number, perMinute: number): ServerContext {
    return { db: server.db, keys: server.keys, now: server.clock.now, throttle: DEFAULT_THROTTLE_LIMITS, codeLimits: { perEntryStep, perMinute } };
  }

  async function computedEvents(step: number): Promise<Array<{ entry: string; token?: string }>> {
    const rows = await server.db.query(`SELECT detail FROM server_audit WHERE kind = 'codes.computed' AND actor_id = $1 ORDER BY seq`, [tech.user.id]);
    return rows.map((r) => JSON.parse(text(r, 'detail')) as { entry: string; step: number; token?: string }).filter((d) => d.step === step);
  }

  it('counts the asks of many tokens of one account against one per-step budget, the audit naming each token', async () => {
    const tokens = [await codesToken(), await codesToken(), await codesToken()];
    const step = freshStep();
    const replies: string[] = [];
    // One after another, three asks a token: nine asks of one entry in one step, five allowed to the account.
    for (const { token } of tokens) {
      for (let i = 0; i < 3; i++) {
        const reply = await withToken(server, token, 'codes', { vault, entry: entry(0) });
        replies.push(reply.ok ? 'ok' : reply.error.code);
      }
    }
    expect(tally(replies)).toEqual({ ok: 5, TOO_MANY_ATTEMPTS: 4 });
    const events = await computedEvents(step);
    expect(events.map((e) => e.token)).toEqual([tokens[0]?.id, tokens[0]?.id, tokens[0]?.id, tokens[1]?.id, tokens[1]?.id]);
  });

  it('counts a token\'s asks and its maker\'s session\'s against the one per-step budget', async () => {
    const { token } = await codesToken();
    freshStep();
    const replies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const viaSession = await tech.client.call('codes', { vault, entry: entry(1) });
      replies.push(viaSession.ok ? 'ok' : viaSession.error.code);
      const viaToken = await withToken(server, token, 'codes', { vault, entry: entry(1) });
      replies.push(viaToken.ok ? 'ok' : viaToken.error.code);
    }
    expect(replies).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'TOO_MANY_ATTEMPTS']);
  });

  it('counts two tokens\' and a session\'s asks against the one per-minute budget', async () => {
    const ctx = contextWith(5, 4);
    const [a, b] = [await codesToken(), await codesToken()];
    freshStep();
    const callers = [
      await authenticateToken(ctx, a.token, 'codes', SOURCE), await authenticateToken(ctx, b.token, 'codes', SOURCE),
      await authenticate(ctx, tech.client.tokens?.accessToken, tech.client.deviceId),
    ];
    const outcomes: string[] = [];
    // Five asks of three entries (never more than two of one): only the minute's limit, four, refuses one.
    for (const [who, which] of [[0, 0], [1, 1], [2, 2], [0, 1], [1, 2]] as const) {
      const caller = callers[who];
      if (caller === undefined) throw new Error('no such caller');
      outcomes.push(await outcomeOf(computeCode(ctx, caller, { vault, entry: entry(which) }, SOURCE)));
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'TOO_MANY_ATTEMPTS']);
  });

  it('refuses a token revoked after its request was checked and before its batch ran, and audits nothing for it', async () => {
    const ctx = contextWith(5, 300);
    const { token, id } = await codesToken();
    const step = freshStep();
    // Control: checked, then asked, it gets its code.
    const standing = await authenticateToken(ctx, token, 'codes', SOURCE);
    expect(await outcomeOf(computeCode(ctx, standing, { vault, entry: entry(2) }, SOURCE))).toBe('ok');
    // Checked, then revoked, then asked: the batch reads the token again.
    const checked = await authenticateToken(ctx, token, 'codes', SOURCE);
    expect(await tech.client.ok('tokenRevoke', { id })).toEqual({ revoked: true });
    expect(await outcomeOf(computeCode(ctx, checked, { vault, entry: entry(2) }, SOURCE))).toBe('UNAUTHORIZED');
    // A fresh request with it gets the same code.
    const fresh = await withToken(server, token, 'codes', { vault, entry: entry(2) });
    expect(fresh.ok ? 'ok' : fresh.error.code).toBe('UNAUTHORIZED');
    expect((await computedEvents(step)).filter((e) => e.token === id)).toHaveLength(1);
  });

  it('refuses a session signed out after its request was checked and before its batch ran', async () => {
    const ctx = contextWith(5, 300);
    // A second sign-in of tech's on another device: signing it out leaves the first.
    const other = new TestClient(server.url);
    await other.login(tech.username, tech.password);
    const step = freshStep();
    const before = (await computedEvents(step)).length;
    const checked = await authenticate(ctx, other.tokens?.accessToken, other.deviceId);
    await other.ok('signOut', {});
    expect(await outcomeOf(computeCode(ctx, checked, { vault, entry: entry(0) }, SOURCE))).toBe('UNAUTHORIZED');
    expect(await computedEvents(step)).toHaveLength(before);
  });

  it('refuses a token that expired after its request was checked and before its batch ran', async () => {
    const ctx = contextWith(5, 300);
    const { token } = await codesToken(1);
    freshStep();
    const checked = await authenticateToken(ctx, token, 'codes', SOURCE);
    server.clock.advance(DAY);
    expect(await outcomeOf(computeCode(ctx, checked, { vault, entry: entry(1) }, SOURCE))).toBe('UNAUTHORIZED');
  });
});

describe('codes: a revocation or a session end in flight when the batch starts, on PostgreSQL', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  const vault = randomBytes(16).toString('hex');
  const entry = randomUUID();

  beforeAll(async () => {
    server = await startTestServer(await databases.open('postgres'));
    owner = await registerOwner(server);
    tech = await invitePerson(server, owner, 'admin');
    await serverCodeEntries(server, owner, tech, vault, randomUUID(), [entry]);
  }, 120_000);

  async function waiting(advisory: boolean): Promise<number> {
    const [row] = await server.db.query('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND (locktype = \'advisory\') = $1', [advisory]);
    return Number(row?.n ?? 0);
  }

  /** Until `done` says so, yielding to the event loop between reads of pg_locks (never a sleep on the clock). */
  async function until(done: () => Promise<boolean>): Promise<void> {
    while (!await done()) await new Promise<void>((resolve) => { setImmediate(resolve); });
  }

  /**
   * `end` (a write that ends a standing, then waits to append its audit event) started while the
   * audit's lock is held; the batch `ask` started once it waits: it waits on the ended row (the
   * fix), or reads past it and queues for the audit's lock behind it. Then both are let go.
   */
  async function endedInFlight<T>(end: () => Promise<T>, ask: () => Promise<string>): Promise<{ ended: T; asked: string }> {
    let letGo: () => void = () => undefined;
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => { locked = resolve; });
    const holding = server.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      locked();
      await new Promise<void>((resolve) => { letGo = resolve; });
    });
    await isLocked;
    const ending = end();
    await until(async () => await waiting(true) === 1);
    const asking = ask();
    await until(async () => await waiting(false) >= 1 || await waiting(true) >= 2);
    letGo();
    await holding;
    return { ended: await ending, asked: await asking };
  }

  it('refuses the code when the token\'s revocation was written before the batch read it, and commits first', async () => {
    const ctx: ServerContext = { db: server.db, keys: server.keys, now: server.clock.now, throttle: DEFAULT_THROTTLE_LIMITS };
    const made = await tech.client.ok('tokenCreate', { name: 'in flight', scopes: ['codes'], vaults: [vault], expiresInDays: 7 });
    // The request is checked (its use audited now, while nothing holds the audit's lock).
    const checked = await authenticateToken(ctx, made.token, 'codes', SOURCE);
    const { ended, asked } = await endedInFlight(() => tech.client.ok('tokenRevoke', { id: made.view.id }), () => outcomeOf(computeCode(ctx, checked, { vault, entry }, SOURCE)));
    expect(ended).toEqual({ revoked: true });
    expect(asked).toBe('UNAUTHORIZED');
    const computed = await server.db.query(`SELECT 1 FROM server_audit WHERE kind = 'codes.computed' AND detail LIKE $1`, [`%${made.view.id}%`]);
    expect(computed).toHaveLength(0);
  });

  // Review of D5: the sessions' FOR SHARE in the batch (store/sessions.ts sessionsHeldSql), as the token's: a device removed, its sessions deleted.
  it('refuses the code when the device removal ending the session was written before the batch read it', async () => {
    const ctx: ServerContext = { db: server.db, keys: server.keys, now: server.clock.now, throttle: DEFAULT_THROTTLE_LIMITS };
    const other = new TestClient(server.url);
    await other.login(tech.username, tech.password);
    const checked = await authenticate(ctx, other.tokens?.accessToken, other.deviceId);
    const { ended, asked } = await endedInFlight(() => tech.client.call('deviceRemove', { deviceId: other.deviceId ?? '' }), () => outcomeOf(computeCode(ctx, checked, { vault, entry }, SOURCE)));
    expect(ended.ok ? ended.value.endedSessions : ended.error.code).toBe(1);
    expect(asked).toBe('UNAUTHORIZED');
  });
});
