/**
 * The desktop app's background taking of a new desktop's audit history (electron/team/
 * history-runner.ts, docs/SYNC.md "Speed" step 8), through the router as the app and `crewvault
 * serve` call it, against a real team server (PGlite, real HTTP on loopback) behind a loopback
 * relay the test holds: a sync round returns once the state is in and the history follows a page
 * at a time; team.status says "n of m" (the server's count); a sync of new changes runs while a
 * history page is held; a lock stops it and unlocking goes on from the cursor; a dropped
 * connection is kept as one error, tried again after 5 s then 10 s (timers and clock injected),
 * and the history finishes once the server is reached again; every server event is then in the
 * file once. Must never print a secret.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TeamStatus } from '../../shared/api/team-contract';
import type { PackedEntryTable } from '../../shared/entry-table';
import type { LiveTimers } from '../../electron/team/desk';
import { HISTORY_PAGE_RECORDS, RETRY_FIRST_MS } from '../../electron/team/history-runner';
import { serverPlace } from '../../electron/team/profiles';
import { syncOnce } from '../../electron/team/sync';
import { Router } from '../../electron/router';
import { eventIdsIn, FIRST_SERVER_PASSWORD as SERVER_PASSWORD, useFirstDesktops } from '../support/first-desktops';
import { HeldRelay } from '../support/held-relay';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { CONFIRMED, ok } from '../support/router';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

/** Enough entries (an event each) for the history to be three background pages. */
const ENTRIES = 1_100;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
let keyring: PrivateKeyring;
const world = useFirstDesktops('crewvault-history-background', clock, { entries: ENTRIES, customers: 5, deviceId: 'history-background-owner-01', timeout: 300_000 });
const { signIn, newDesktop, serverEventIds } = world;

/** Timers the desk would run, held here: the test fires a retry when it chooses. */
function heldTimers(): LiveTimers & { readonly pending: Map<number, () => void> } {
  const pending = new Map<number, () => void>();
  let next = 1;
  const add = (run: () => void): number => {
    pending.set(next, run);
    return next++;
  };
  const drop = (handle: unknown): void => {
    pending.delete(handle as number);
  };
  return { pending, setInterval: add, setTimeout: add, clearInterval: drop, clearTimeout: drop };
}

beforeAll(() => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
});

afterAll(() => {
  keyring?.stop();
});

describe('the app takes a new desktop\'s audit history in the background', () => {
  it('n of m while it arrives, a sync meanwhile, paused by a lock and resumed from the cursor, retried after a dropped connection', async () => {
    const file = await newDesktop('new-desktop');
    const relay = new HeldRelay(new URL(world.server.url));
    await relay.start();
    const timers = heldTimers();
    const place = serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-history-background' }, path.join(world.home, 'team-config'));
    const router = new Router({ vaultPath: file, clock, clipboard: { kind: 'page' }, kdf: FAST_KDF, team: { place, confirm: CONFIRMED, timers } });
    const status = async (): Promise<TeamStatus> => ok(await router.call('team.status', {})) as TeamStatus;
    const listed = async (): Promise<number> => (ok(await router.call('entries.list', {})) as PackedEntryTable).id.length;
    try {
      ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
      ok(await router.call('team.connect', { url: relay.url, username: OWNER, password: SERVER_PASSWORD }));
      const serverEvents = await serverEventIds();
      expect(serverEvents.length).toBeGreaterThan(2 * HISTORY_PAGE_RECORDS);

      // The round returns once the state is in; the history's second page waits at the relay.
      relay.holding = true;
      const synced = ok(await router.call('team.sync', {})) as TeamStatus;
      expect(synced.lastSync).toMatchObject({ ok: true });
      expect(await listed()).toBe(ENTRIES);
      const second = await relay.nextHeld();
      expect(second.after).toBeGreaterThan(0);
      // The first page is written while the second is asked for.
      await vi.waitFor(async () => expect((await status()).history?.taken).toBe(HISTORY_PAGE_RECORDS), { timeout: 20_000, interval: 20 });
      expect((await status()).history).toEqual({ taken: HISTORY_PAGE_RECORDS, total: serverEvents.length, running: true, error: null, retryAt: null });

      // New changes come in while the history waits: the owner's edit, taken by a round of its own.
      const owner = await signIn(world.ownerFile);
      const firstId = (await owner.listEntries()).find((e) => e.title === 'Entry 0')?.id ?? 0;
      await owner.updateEntry(firstId, { title: 'Entry 0 renamed' }, (await owner.getEntry(firstId)).revision);
      await syncOnce(world.client, owner.replica);
      await owner.close();
      const during = ok(await router.call('team.sync', {})) as TeamStatus;
      expect(during.lastSync).toMatchObject({ ok: true });
      expect(JSON.stringify((ok(await router.call('entries.list', {})) as PackedEntryTable).title)).toContain('Entry 0 renamed');
      expect(during.history).toMatchObject({ taken: HISTORY_PAGE_RECORDS, total: serverEvents.length, running: true });

      // A lock stops it: the page let go after the lock is not written; unlocking goes on from the cursor.
      ok(await router.call('session.lock', {}));
      relay.holding = true;
      second.go();
      ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
      const resumed = await relay.nextHeld();
      expect(resumed.after).toBe(second.after);
      // The server's count comes with the resumed run's first page: until then, not known.
      expect((await status()).history).toMatchObject({ taken: null, total: null, running: true });

      // The connection drops: one error, tried again after 5 s, then 10 s; the history stays owed.
      relay.down = true;
      resumed.go();
      await vi.waitFor(async () => expect((await status()).history?.error).not.toBeNull(), { timeout: 20_000, interval: 20 });
      const failed = (await status()).history;
      expect(failed).toMatchObject({ running: false, retryAt: clock.now() + RETRY_FIRST_MS, error: { code: 'SERVER_UNREACHABLE', tries: 1, since: clock.now() } });
      expect(timers.pending.size).toBe(1);
      const since = clock.now();
      clock.advance(RETRY_FIRST_MS);
      for (const [id, run] of [...timers.pending]) {
        timers.pending.delete(id);
        run();
      }
      await vi.waitFor(async () => expect((await status()).history?.error?.tries).toBe(2), { timeout: 20_000, interval: 20 });
      expect((await status()).history).toMatchObject({ retryAt: clock.now() + 2 * RETRY_FIRST_MS, error: { tries: 2, since } });

      // The server reached again: a sync round cuts the wait short, and the history finishes.
      relay.down = false;
      relay.release();
      ok(await router.call('team.sync', {}));
      await vi.waitFor(async () => expect((await status()).history).toBeNull(), { timeout: 60_000, interval: 50 });
      expect(timers.pending.size).toBe(0);
      expect(await listed()).toBe(ENTRIES);
    } finally {
      await router.close();
      await relay.close();
    }
    // Every event the server holds is in the file, once.
    const inFile = eventIdsIn(file);
    const held = new Set(inFile);
    expect(held.size).toBe(inFile.length);
    for (const id of await serverEventIds()) expect(held.has(id), id).toBe(true);
  }, 300_000);

  it('the server counts the snapshot\'s events when asked, and only on the events part', async () => {
    const [vaultRow] = await world.server.database.query('SELECT vault_id, seq FROM sync_vaults');
    const vault = String(vaultRow?.vault_id);
    const upTo = Number(vaultRow?.seq);
    const seqs = (await world.server.database.query("SELECT seq FROM sync_records WHERE kind = 'event' ORDER BY seq")).map((r) => Number(r.seq));
    const after = seqs[9] ?? 0;
    const page = await world.client.call('syncSnapshot', { vault, part: 'events', after, upTo, limit: 5, count: true });
    expect(page.eventCount).toEqual({ total: seqs.filter((q) => q <= upTo).length, taken: 10 });
    expect(page.records).toHaveLength(5);
    expect((await world.client.call('syncSnapshot', { vault, part: 'events', after, upTo, limit: 5 })).eventCount).toBeUndefined();
    expect((await world.client.call('syncSnapshot', { vault, part: 'state', after: 0, upTo, limit: 5, count: true })).eventCount).toBeUndefined();
  });
});
