/**
 * A team server older than the desktop (electron/team/server-schema.ts, docs/SYNC.md "Which server
 * a vault syncs with"): a real team server on PGlite behind a loopback relay that answers as a
 * server from before schema 23 does (test/support/old-server-relay.ts: its health says 22, `kinds`
 * and the role, settings and policy records refused as its strict schema refused them). Before,
 * a move sent its signing keys (stored there) and then failed on "the body: has a field this route
 * does not take", a sync or first sync failed on the same line at every try, naming no cause. Now
 * each stops before its first request of the vault with SERVER_OUTDATED, one line saying to
 * upgrade the server: nothing stored on the server, nothing taken into the file, no loop.
 * Must never: mock the store, the client or the server.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeamClient } from '../../electron/team/client';
import { firstSync } from '../../electron/team/first-sync';
import { syncOnce } from '../../electron/team/sync';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { newDesktopFrom } from '../support/first-desktops';
import { OldServerRelay } from '../support/old-server-relay';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const SERVER_PASSWORD = 'alice on an old team server 1';
const OUTDATED = /^The team server at 127\.0\.0\.1:\d+ is older than this desktop \(schema 22; its sync needs 23 or later\): nothing was sent or taken in\. Ask its administrator to upgrade the server\.$/;
const clock = manualClock(Date.UTC(2026, 11, 1, 11, 0, 0));
let home = '';
let server: RunningServer;
let relay: OldServerRelay;
let direct: TeamClient;
let old: TeamClient;
let ownerFile = '';
let blank = '';

/** How many records the server stores (of any vault). */
async function storedRecords(): Promise<number> {
  const [row] = await server.database.query('SELECT count(*)::int AS n FROM sync_records');
  return Number(row?.n);
}

/** `refused` is SERVER_OUTDATED with its one line. */
function expectOutdated(refused: unknown): void {
  expect(refused).toMatchObject({ code: 'SERVER_OUTDATED' });
  expect((refused as Error).message).toMatch(OUTDATED);
}

/** The sync requests (pull, push, snapshot) that reached the relay. */
const syncAsked = (): number => [...relay.asked].filter(([p]) => p.startsWith('/v1/sync/')).reduce((n, [, c]) => n + c, 0);

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-server-outdated-'));
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  ownerFile = path.join(home, 'owner.crewvault');
  await (await createVault(ownerFile, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock })).close();
  blank = path.join(home, 'blank.crewvault');
  copyFileSync(ownerFile, blank);
  const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
  await owner.replica.agreeAll();
  await owner.createEntries([{ customer: 'Acme', title: 'Router', password: 'pw-router' }, { customer: 'Acme', title: 'Switch', password: 'pw-switch' }]);
  await owner.close();
  direct = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'server-outdated-direct-00001');
  await direct.register(readFileSync(path.join(home, 'server', 'owner-invite.txt'), 'utf8').trim(), OWNER, SERVER_PASSWORD, undefined);
  await direct.login(OWNER, SERVER_PASSWORD);
  relay = new OldServerRelay(new URL(server.url));
  await relay.start();
  old = new TeamClient(new URL(relay.url), { kind: 'loopback' }, 'server-outdated-relayed-0001');
  await old.login(OWNER, SERVER_PASSWORD);
}, 120_000);

afterAll(async () => {
  await relay.close();
  await server.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('a team server older than the desktop', () => {
  it('a move stops before anything is sent: the server holds nothing of the vault, the file is bound to no server', async () => {
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    try {
      expectOutdated(await syncOnce(old, owner.replica, { move: true }).then(() => undefined, (error: unknown) => error));
      expect(await storedRecords()).toBe(0);
      expect(await owner.replica.teamServer()).toBeUndefined();
      expect(syncAsked()).toBe(0);
      expect(relay.asked.get('/health')).toBe(1);
    } finally {
      await owner.close();
    }
  });

  it('a sync of a vault moved there stops the same, every time, with nothing sent or taken in', async () => {
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    try {
      // Moved by the server as it is (the control: the real server takes it).
      await syncOnce(direct, owner.replica, { move: true });
      const stored = await storedRecords();
      expect(stored).toBeGreaterThan(0);
      await owner.createEntries([{ customer: 'Acme', title: 'Firewall', password: 'pw-firewall' }]);
      const pulled = await owner.replica.pulledUpTo();
      for (let round = 0; round < 2; round++) {
        expectOutdated(await syncOnce(old, owner.replica).then(() => undefined, (error: unknown) => error));
      }
      expect(await storedRecords()).toBe(stored);
      expect(await owner.replica.pulledUpTo()).toBe(pulled);
      expect(syncAsked()).toBe(0);
      // Through the server as it is, the same file goes on.
      const outcome = await syncOnce(direct, owner.replica);
      expect(outcome.pushed).toBeGreaterThan(0);
    } finally {
      await owner.close();
    }
  });

  it('a new desktop\'s first sync stops before a page is asked for: the file stays empty', async () => {
    const file = await newDesktopFrom(blank, path.join(home, 'new.crewvault'), clock);
    const session = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    try {
      const fresh = new TeamClient(new URL(relay.url), { kind: 'loopback' }, 'server-outdated-fresh-000001');
      await fresh.login(OWNER, SERVER_PASSWORD);
      expectOutdated(await firstSync(fresh, session.replica).then(() => undefined, (error: unknown) => error));
      await expect(syncOnce(fresh, session.replica)).rejects.toMatchObject({ code: 'SERVER_OUTDATED' });
      expect(await session.replica.isEmpty()).toBe(true);
      expect(syncAsked()).toBe(0);
      // Against the server as it is, the same file fills.
      expect((await syncOnce(direct, session.replica)).applied).toBeGreaterThan(0);
      expect((await session.listEntries()).length).toBe(3);
    } finally {
      await session.close();
    }
  });
});
