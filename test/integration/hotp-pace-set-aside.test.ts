/**
 * The HOTP pace of a codes-only person while an event of theirs is set aside here (review round
 * twelve (b), hole 4; the reviewer's two cases kept, a third of ours). electron/vault/hotp-pace.ts
 * treated only an owed history as unknown: at the history's last page (its cursor cleared) the
 * person's newest code, taken on their old desktop after the snapshot and pulled meanwhile, was
 * still set aside (its device chain waiting on the history) until a later, separate transaction
 * tried it again, which the app closing or a failure in between skipped until the next sync's
 * pull; in that gap the new desktop handed the next HOTP code at once. Now takeHistory's last page
 * tries the set-aside events again inside its own transaction, before the cursor is gone
 * (first-sync.ts, replica-service.ts), and the pace counts any set-aside event of the person, for
 * whatever reason, as "just now" (the third case: a chain waiting, no history involved). Real
 * server (PGlite, loopback HTTP) for the first two, real vault files, the session's own otpCode;
 * the gap is reached through takeHistory's onHistory, which the app's runner also passes.
 * FAILED on 52469c8 (4a: ['code']; 4b: 'code').
 * Must never print a secret.
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeamClient } from '../../electron/team/client';
import { firstSync, takeHistory } from '../../electron/team/first-sync';
import { syncOnce } from '../../electron/team/sync';
import { renewDeviceId } from '../../electron/vault/store-signing';
import type { VaultSession } from '../../electron/vault/service';
import { createVault, Vault } from '../../electron/vault/vault';
import { REPLICA_FORMAT, type ReplicaRecord } from '../../shared/sync/records';
import { startServer, type RunningServer } from '../../server/main';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

type EventRec = Extract<ReplicaRecord, { kind: 'event' }>;
const SERVER_PASSWORD = 'alice on the team server 1';
const CODY = 'cody';
const CODY_PASSWORD = 'cody password chosen here';
const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
let home: string;
let server: RunningServer;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-review12b-hotp-'));
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(home, { recursive: true, force: true });
});

/** The code's outcome as one word: a code handed, or the error's code. */
async function tryCode(file: string, entryId: number): Promise<string> {
  const cody = await Vault.open(file, clock).signIn(CODY, CODY_PASSWORD);
  try {
    await cody.otpCode(entryId);
    return 'code';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    await cody.close();
  }
}

interface Gap {
  readonly nFile: string;
  readonly tokenId: number;
  readonly t1: number;
  readonly client: TeamClient;
  readonly nOwner: VaultSession;
}

/**
 * The owner's desktop O with cody (codes only, his own password) and an HOTP entry, moved to the
 * server; a new desktop N whose first sync took the state, history owed; cody's code on O after the
 * snapshot (t1), pushed, pulled by N: the counter taken, the event set aside (it chains on O's
 * earlier events, in the history). The clock is left at t1 + 5 s.
 */
async function gapWorld(tag: string): Promise<Gap> {
  const oFile = path.join(home, `owner-${tag}.crewvault`);
  await (await createVault(oFile, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock })).close();
  let owner = await Vault.open(oFile, clock).signIn(OWNER, PASSWORD);
  await owner.replica.agreeAll();
  await owner.createUser(CODY, 'codes_only', 'a one-time password for cody', FAST_KDF);
  await owner.close();
  const first = await Vault.open(oFile, clock).signIn(CODY, 'a one-time password for cody');
  await first.changePassword('a one-time password for cody', CODY_PASSWORD, FAST_KDF);
  await first.close();
  const blank = path.join(home, `blank-${tag}.crewvault`);
  copyFileSync(oFile, blank);
  owner = await Vault.open(oFile, clock).signIn(OWNER, PASSWORD);
  const token = await owner.createEntry({ customer: 'Acme', title: 'Token', otp: { params: { kind: 'hotp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
  await owner.createEntries(Array.from({ length: 12 }, (_, i) => ({ customer: 'Acme', title: `Entry ${i}`, password: `pw-${i}` })));
  const client = new TeamClient(new URL(server.url), { kind: 'loopback' }, `review12b-hotp-${tag}-device-01`);
  if (tag === 'gap') await client.register(readFileSync(path.join(home, 'server', 'owner-invite.txt'), 'utf8').trim(), OWNER, SERVER_PASSWORD, undefined);
  await client.login(OWNER, SERVER_PASSWORD);
  await syncOnce(client, owner.replica, { move: true });
  await owner.close();

  const nFile = path.join(home, `new-${tag}.crewvault`);
  copyFileSync(blank, nFile);
  const opened = Vault.open(nFile, clock);
  await opened.store.write((w) => renewDeviceId(w));
  await opened.close();
  const nOwner = await Vault.open(nFile, clock).signIn(OWNER, PASSWORD);
  expect(await firstSync(client, nOwner.replica, { history: 'later' })).toMatchObject({ historyOwed: true });
  const tokenOnN = (await nOwner.listEntries()).find((e) => e.title === 'Token');
  if (!tokenOnN) throw new Error('no Token on the new desktop');

  clock.advance(60_000);
  const t1 = clock.now();
  const codyOnO = await Vault.open(oFile, clock).signIn(CODY, CODY_PASSWORD);
  await codyOnO.otpCode(token.id);
  await codyOnO.close();
  owner = await Vault.open(oFile, clock).signIn(OWNER, PASSWORD);
  await syncOnce(client, owner.replica);
  await owner.close();
  const during = await syncOnce(client, nOwner.replica, { history: 'later' });
  expect(during.held).toBeGreaterThan(0);
  clock.set(t1 + 5_000);
  // Refused while the history is owed (the rule c7f7a8c built).
  expect(await tryCode(nFile, tokenOnN.id)).toBe('TOO_MANY_ATTEMPTS');
  return { nFile, tokenId: tokenOnN.id, t1, client, nOwner };
}

/** Whether N's log holds cody's code at t1 (his event from O). */
function codeAtT1In(file: string, t1: number): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE u.name = 'cody' AND a.action = 'otp.hotp' AND a.at = ?").get(t1)?.n ?? 0;
  } finally {
    db.close();
  }
}

describe('the HOTP pace while an event of the person is set aside', () => {
  it('at the history\'s last page: no HOTP code the whole log refuses, the set-aside code taken in the same transaction', async () => {
    const { nFile, tokenId, t1, client, nOwner } = await gapWorld('gap');
    try {
      // The history taken in; at the last page (cursor cleared), cody asks again, still 5 s after his code.
      const atLastPage: string[] = [];
      await takeHistory(client, nOwner.replica, {
        pageRecords: 5,
        onHistory: async () => {
          if ((await nOwner.replica.historyOwed()) === undefined) atLastPage.push(await tryCode(nFile, tokenId));
        },
      });
      // After the retry his code at t1 is in N's log: the whole log refuses a code at t1 + 5 s, so the gap must too.
      expect(codeAtT1In(nFile, t1)).toBe(1);
      expect(atLastPage).toEqual(['TOO_MANY_ATTEMPTS']);
    } finally {
      await nOwner.close();
    }
  }, 300_000);

  it('the app closing (or the runner failing) right after the last page: the set-aside code is in already, the pace holds offline', async () => {
    const { nFile, tokenId, t1, client, nOwner } = await gapWorld('closed');
    await expect(takeHistory(client, nOwner.replica, {
      pageRecords: 5,
      onHistory: async () => {
        if ((await nOwner.replica.historyOwed()) === undefined) throw new Error('the app closed');
      },
    })).rejects.toThrow('the app closed');
    await nOwner.close();
    // Opened again, no server reachable (no sync): no history owed, cody's code from O taken by the last page's own transaction.
    expect(codeAtT1In(nFile, t1)).toBe(1);
    expect(await tryCode(nFile, tokenId)).toBe('TOO_MANY_ATTEMPTS');
  }, 300_000);
  it('an event of the person set aside for another reason (its device chain waiting): no code until it is taken, whatever the time', async () => {
    // The owner's desktop O with cody (codes only) and an HOTP entry; N a copy of it as another desktop. No server: records as JSON.
    const oFile = path.join(home, 'owner-chain.crewvault');
    await (await createVault(oFile, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock })).close();
    let owner = await Vault.open(oFile, clock).signIn(OWNER, PASSWORD);
    await owner.replica.agreeAll();
    await owner.createUser(CODY, 'codes_only', 'a one-time password for cody', FAST_KDF);
    const token = await owner.createEntry({ customer: 'Acme', title: 'Token', otp: { params: { kind: 'hotp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
    await owner.close();
    const first = await Vault.open(oFile, clock).signIn(CODY, 'a one-time password for cody');
    await first.changePassword('a one-time password for cody', CODY_PASSWORD, FAST_KDF);
    await first.close();
    const nFile = path.join(home, 'new-chain.crewvault');
    copyFileSync(oFile, nFile);
    const opened = Vault.open(nFile, clock);
    await opened.store.write((w) => renewDeviceId(w));
    await opened.close();

    // On O, cody takes two codes 40 s apart (the pace allows them); his events after the copy, in O's order.
    clock.advance(60_000);
    const since = clock.now();
    for (const wait of [0, 40_000]) {
      clock.advance(wait);
      const cody = await Vault.open(oFile, clock).signIn(CODY, CODY_PASSWORD);
      await cody.otpCode(token.id);
      await cody.close();
    }
    const t2 = clock.now();
    owner = await Vault.open(oFile, clock).signIn(OWNER, PASSWORD);
    const vault = await owner.replica.vaultId();
    const events = (await owner.replica.outgoing()).batch.records.filter((r): r is EventRec => r.kind === 'event' && r.at >= since && r.at <= t2);
    await owner.close();
    const codes = events.filter((r) => r.action === 'otp.hotp');
    expect(codes.map((r) => r.at)).toEqual([t2 - 40_000, t2]);
    const [firstCode] = codes;
    if (!firstCode) throw new Error('no first code');
    const batch = (records: readonly ReplicaRecord[]): unknown => JSON.parse(JSON.stringify({ format: REPLICA_FORMAT, vault, records })) as unknown;

    // N takes all but his first code: everything after it on O's chain (his second code too) waits, set aside.
    let nOwner = await Vault.open(nFile, clock).signIn(OWNER, PASSWORD);
    const outcome = await nOwner.replica.apply(batch(events.filter((r) => r.id !== firstCode.id)), { hold: true, caughtUp: true });
    await nOwner.close();
    expect(outcome.held.some((h) => h.kind === 'event')).toBe(true);
    expect(codeAtT1In(nFile, t2)).toBe(0);
    const entryOnN = (await (async () => {
      const s = await Vault.open(nFile, clock).signIn(OWNER, PASSWORD);
      try {
        return (await s.listEntries()).find((e) => e.title === 'Token');
      } finally {
        await s.close();
      }
    })());
    if (!entryOnN) throw new Error('no Token on N');
    // 5 s after his second code, and ten minutes after: unknown counts as just now.
    clock.set(t2 + 5_000);
    expect(await tryCode(nFile, entryOnN.id)).toBe('TOO_MANY_ATTEMPTS');
    clock.set(t2 + 600_000);
    expect(await tryCode(nFile, entryOnN.id)).toBe('TOO_MANY_ATTEMPTS');

    // His first code comes; a later apply (a sync's next pull) takes what waited on it: nothing of his set aside, the pace reads the log.
    nOwner = await Vault.open(nFile, clock).signIn(OWNER, PASSWORD);
    await nOwner.replica.apply(batch([firstCode]), { hold: true, caughtUp: true });
    const again = await nOwner.replica.apply(batch([]), { hold: true, caughtUp: true });
    await nOwner.close();
    expect(again.held.filter((h) => h.kind === 'event')).toEqual([]);
    expect(codeAtT1In(nFile, t2)).toBe(1);
    expect(await tryCode(nFile, entryOnN.id)).toBe('code');
  }, 300_000);
});
