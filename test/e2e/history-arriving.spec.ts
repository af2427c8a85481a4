// A new desktop's audit history arriving in the background, end to end (#15, docs/SYNC.md "Speed"
// step 8): Chromium through `crewvault serve` on a new desktop of a team vault (a copy of the vault
// from before its entries, a device of its own), a real team server (PGlite, its clock the test's)
// behind a loopback relay the test holds. Signing in to the server from the Team server screen
// turns live sync on, whose first round takes the vault's state in; the history follows in the
// background and waits at the relay after its first page: the Team server screen says "History:
// 500 of m events" (m the server's count), the Audit screen that the log is incomplete. Let go,
// the history finishes and both go away, the Audit screen's log read again. Nothing waits on the
// wall clock: each step waits for what the page shows.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TeamClient } from '../../electron/team/client';
import { HISTORY_PAGE_RECORDS } from '../../electron/team/history-runner';
import { syncOnce } from '../../electron/team/sync';
import { renewDeviceId } from '../../electron/vault/store-signing';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer } from '../../server/main';
import { testClock } from '../server/support';
import { HeldRelay } from '../support/held-relay';
import { expect, OWNER, PASSWORD, test } from './fixtures';
import { signIn, signInToTeamServer } from './helpers';
import { keyringOfThisWorker, startServe, type TeamWorld } from './team-server-helpers';

const SERVER_PASSWORD = 'alice on the team server 1';
const FAST_KDF = { memory: 1024, iterations: 1, parallelism: 1 };
/** More events than one background page: the history waits at the relay after its first. */
const ENTRIES = 700;

test('a new desktop shows the history arriving, n of m, on the Team server and Audit screens, until it is in', async ({ page }) => {
  test.setTimeout(180_000);
  const keyring = keyringOfThisWorker();
  const before = Object.fromEntries(Object.keys(keyring.env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, keyring.env);
  const home = mkdtempSync(path.join(tmpdir(), 'crewvault-e2e-history-'));
  const clock = testClock(Date.now());
  const vaultClock = { now: () => Date.now() };
  const dataDir = path.join(home, 'server');
  const server = await startServer({ dataDir, listen: '127.0.0.1:0', now: clock.now, log: { write: () => undefined }, version: 'test' });
  const relay = new HeldRelay(new URL(server.url));
  await relay.start();
  let stopServe: (() => Promise<void>) | undefined;
  try {
    // The owner's vault, and a copy of it from before any entry: the new desktop.
    const ownerFile = path.join(home, 'owner.crewvault');
    await Promise.resolve((await createVault(ownerFile, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock: vaultClock })).close());
    const a = path.join(home, 'new-desktop.crewvault');
    copyFileSync(ownerFile, a);
    const opened = Vault.open(a, vaultClock);
    await opened.store.write((w) => renewDeviceId(w));
    await opened.close();
    const fresh = await Vault.open(a, vaultClock).signIn(OWNER, PASSWORD);
    await fresh.replica.agreeAll();
    await fresh.close();
    // The owner fills the vault and moves it onto the server.
    const owner = await Vault.open(ownerFile, vaultClock).signIn(OWNER, PASSWORD);
    await owner.replica.agreeAll();
    await owner.createEntries(Array.from({ length: ENTRIES }, (_, i) => ({ customer: `Customer ${i % 4}`, title: `Entry ${i}`, password: `pw-${i}` })));
    const client = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'e2e-history-owner-device-01');
    await client.register(readFileSync(path.join(dataDir, 'owner-invite.txt'), 'utf8').trim(), OWNER, SERVER_PASSWORD, undefined);
    await client.login(OWNER, SERVER_PASSWORD);
    await syncOnce(client, owner.replica, { move: true });
    await owner.close();
    const total = Number((await server.database.query("SELECT count(*) AS n FROM sync_records WHERE kind = 'event'"))[0]?.n);
    expect(total).toBeGreaterThan(HISTORY_PAGE_RECORDS);

    const desktop = { file: a, env: { CREWVAULT_CONFIG: path.join(home, 'config-a'), CREWVAULT_KEYCHAIN_SERVICE: `${path.basename(home)}-a` } };
    const world: TeamWorld = { home, server, clock, inviteFile: path.join(dataDir, 'owner-invite.txt'), desktops: [desktop, desktop], stop: () => Promise.resolve() };
    const serve = await startServe(world);
    stopServe = () => serve.stop();

    // The new desktop signs in to its vault, then to the team server (through the relay).
    relay.holding = true;
    await page.goto(serve.url);
    await signIn(page, OWNER, PASSWORD);
    await signInToTeamServer(page, relay.url, OWNER, SERVER_PASSWORD);

    // Live sync's first round takes the state in; the history's second page waits at the relay.
    const history = page.getByRole('status', { name: 'Audit history' });
    await expect(history).toContainText(`History: ${HISTORY_PAGE_RECORDS} of ${total} events`, { timeout: 60_000 });
    await expect(page.getByLabel('Last sync')).toContainText('Synced at');

    // The Audit screen says the log is incomplete, and how far the history is.
    await page.getByRole('button', { name: 'Audit log', exact: true }).click();
    const notice = page.getByRole('status').filter({ hasText: 'History still arriving' });
    await expect(notice).toHaveText(`History still arriving (${HISTORY_PAGE_RECORDS} of ${total}) — the log below is incomplete.`);

    // Let go: the history finishes, the notice goes and the log is read again with it.
    relay.release();
    await expect(notice).toBeHidden({ timeout: 60_000 });
    await expect(page.getByText(/^\d+ of \d+ records/)).toContainText(/of (\d{3,})/);
    await page.getByRole('button', { name: /^Account: / }).click();
    await page.getByRole('group', { name: /^Account of / }).getByRole('button', { name: 'Team server' }).click();
    await expect(page.getByLabel('Last sync')).toContainText('Synced at');
    await expect(history).toHaveCount(0);
  } finally {
    await stopServe?.();
    await relay.close();
    await server.close();
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
    rmSync(home, { recursive: true, force: true });
  }
});
