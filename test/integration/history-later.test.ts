/**
 * A new desktop usable once the snapshot's state is in, its audit history following
 * (electron/team/first-sync.ts takeHistory, docs/SYNC.md "Speed"), through a real team server
 * (PGlite, real HTTP on loopback) between real vault files of a few thousand entries: every entry
 * listed and revealed before any event of the history is here; `audit verify` (the command, in
 * this process) says the history is still arriving, exit 3, then intact, exit 0; a write made
 * meanwhile goes out on a device chain of its own; the owner's edits pulled meanwhile are taken as
 * state while their events, which continue the owner's device chain, wait set aside until the
 * history they chain on is in; the history cut short mid-way (the app closing) goes on from its
 * cursor after the file is opened again, nothing lost and nothing twice; the chain, the keyed
 * anchor and every server event are there after. An event of the history altered on the server is
 * still refused (set aside, never chained), and so are the events of its device after it.
 * Must never print a secret.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HISTORY_ARRIVING } from '../../electron/cli/audit';
import type { CliIo } from '../../electron/cli/io';
import { runCli } from '../../electron/cli/main';
import { firstSync, takeHistory } from '../../electron/team/first-sync';
import { syncOnce } from '../../electron/team/sync';
import { eventIdsIn, useFirstDesktops } from '../support/first-desktops';
import { manualClock } from '../support/vault';

const ENTRIES = 2_000;
/** Small history pages, so the history is several pages and can be cut short between two. */
const PAGE = 500;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const world = useFirstDesktops('crewvault-history-later', clock, { entries: ENTRIES, customers: 7, deviceId: 'history-later-test-device-01', timeout: 300_000 });
const { signIn, newDesktop, serverEventIds } = world;
let runs = 0;

/** `crewvault audit verify --vault FILE` in this process: its status and what it printed. */
async function auditVerify(file: string): Promise<{ readonly status: number; readonly out: string }> {
  let out = '';
  const runtime = path.join(world.home, `run-${runs++}`);
  mkdirSync(runtime, { mode: 0o700 });
  const io: CliIo = {
    out: (text) => { out += text; }, err: (text) => { out += text; }, readStdin: () => Promise.resolve(undefined),
    readSecret: () => Promise.reject(new Error('no password should be asked')), interactive: false, now: () => clock.now(), env: { XDG_RUNTIME_DIR: runtime },
  };
  const status = await runCli(['audit', 'verify', '--vault', file], io);
  return { status, out };
}

/** The event ids a vault file's log holds (hex). */
function eventIdSet(file: string): Set<string> {
  return new Set(eventIdsIn(file));
}

describe('a new desktop is usable before its audit history is in', () => {
  it('lists and reveals before the history; a write and a pull meanwhile; cut short and resumed; verify says so, then holds', async () => {
    const file = await newDesktop();
    const serverEventsBefore = await serverEventIds();
    let session = await signIn(file);
    const owner = await signIn(world.ownerFile);
    try {
      const outcome = await firstSync(world.client, session.replica, { history: 'later' });
      expect(outcome).toMatchObject({ historyOwed: true, held: 0, eventsMs: undefined });
      const owed = await session.replica.historyOwed();
      expect(owed).toEqual({ upTo: outcome?.upTo, after: 0 });
      // Usable: every entry listed, one revealed, though none of the history's events is here.
      const listed = await session.listEntries();
      expect(listed).toHaveLength(ENTRIES);
      const some = listed.find((e) => e.title === 'Entry 1234');
      expect(some && (await session.revealPassword(some.id))).toBe('pw-1234');
      const held = eventIdSet(file);
      expect(serverEventsBefore.filter((id) => !held.has(id)).length).toBeGreaterThan(ENTRIES - 1);
      await session.close();
      // audit verify: its own line and status, neither "intact" nor broken.
      const arriving = await auditVerify(file);
      expect(arriving.status).toBe(HISTORY_ARRIVING);
      expect(arriving.out).toMatch(/^Audit log intact so far: \d+ rows/m);
      expect(arriving.out).toMatch(/^History still arriving: /m);
      expect(arriving.out).not.toMatch(/^Audit log intact: /m);
      session = await signIn(file);

      // A write here meanwhile, and an edit on the owner's desktop (its event continues the owner's chain).
      await session.createEntries([{ customer: 'New desk', title: 'Written during history', password: 'pw-during' }]);
      const edited = (await owner.listEntries()).find((e) => e.title === 'Entry 7');
      if (!edited) throw new Error('no Entry 7');
      await owner.updateEntry(edited.id, { password: 'pw-7 edited during history' }, (await owner.getEntry(edited.id)).revision);
      await syncOnce(world.client, owner.replica);
      const during = await syncOnce(world.client, session.replica, { history: 'later' });
      // Pushed: the new entry and its event (a device chain of its own); the owner's edit taken as state.
      expect(during.pushed).toBeGreaterThan(0);
      const seven = (await session.listEntries()).find((e) => e.title === 'Entry 7');
      expect(seven && (await session.revealPassword(seven.id))).toBe('pw-7 edited during history');
      // Its event waits: it continues the owner's device chain, whose earlier events are in the history.
      expect(during.held).toBeGreaterThan(0);
      const heldNow = (await session.replica.applyPulled(await session.replica.vaultId(), [], { hold: true })).held;
      expect(heldNow.every((h) => h.kind === 'event')).toBe(true);
      // The owner's device id is derived: with its earlier events not here, the edit's event reads as a chain start its key does not derive.
      expect(heldNow.map((h) => h.reason)).toContain('A received audit event starts a device\'s chain whose id its signer\'s key does not derive (another person\'s device): nothing was applied.');
      await syncOnce(world.client, owner.replica);
      const ownerHas = (await owner.listEntries()).find((e) => e.title === 'Written during history');
      expect(ownerHas && (await owner.revealPassword(ownerHas.id))).toBe('pw-during');

      // The history, cut short after its first page (the app closing), then the file opened again.
      let pages = 0;
      await expect(takeHistory(world.client, session.replica, {
        pageRecords: PAGE,
        onHistory: () => {
          pages++;
          throw new Error('the app closed');
        },
      })).rejects.toThrow('the app closed');
      expect(pages).toBe(1);
      await session.close();
      session = await signIn(file);
      const resumed = await session.replica.historyOwed();
      expect(resumed?.upTo).toBe(owed?.upTo);
      expect(resumed?.after).toBeGreaterThan(0);
      expect(resumed?.after).toBeLessThan(owed?.upTo ?? 0);

      // The next sync goes on from the cursor, then the pull: the waiting events chain now.
      const taken: number[] = [];
      const finished = await syncOnce(world.client, session.replica, { onHistory: (n) => { taken.push(n); } });
      expect(taken.length).toBeGreaterThan(0);
      expect(taken.at(-1)).toBeLessThan(serverEventsBefore.length); // from the cursor, not from the start
      expect(finished.held).toBe(0);
      expect(await session.replica.historyOwed()).toBeUndefined();
      const check = await session.verifyAuditLog();
      expect(check.chain).toMatchObject({ ok: true });
      expect(check.anchor).toMatchObject({ ok: true });
      // Every event the server holds is here, once (ids are unique in the log).
      const here = eventIdSet(file);
      const missing = (await serverEventIds()).filter((id) => !here.has(id));
      expect(missing).toEqual([]);
      await session.close();
      const intact = await auditVerify(file);
      expect(intact.status).toBe(0);
      expect(intact.out).toMatch(/^Audit log intact: \d+ rows, every link verified\.$/m);
      expect(intact.out).not.toContain('pw-');
      session = await signIn(file);
    } finally {
      await owner.close();
      await session.close();
    }
  }, 300_000);

  it('crewvault sync and join take --history now or later, and refuse anything else before they connect', async () => {
    for (const args of [['sync', '--history', 'soon'], ['join', 'https://127.0.0.1:1', '--user', 'alice', '--history', 'soon']]) {
      let err = '';
      const runtime = path.join(world.home, `run-${runs++}`);
      mkdirSync(runtime, { mode: 0o700 });
      const io: CliIo = {
        out: () => undefined, err: (text) => { err += text; }, readStdin: () => Promise.resolve(undefined),
        readSecret: () => Promise.reject(new Error('no password should be asked')), interactive: false, now: () => clock.now(), env: { XDG_RUNTIME_DIR: runtime, HOME: runtime },
      };
      expect(await runCli(args, io)).toBe(2);
      expect(err).toContain('--history takes "now" or "later"');
    }
  });

  it('still refuses an event of the history altered on the server, and the events of its device after it', async () => {
    const upToNow = await world.server.database.query("SELECT record_id, body->>'signature' AS signature FROM sync_records WHERE kind = 'event' ORDER BY seq OFFSET 40 LIMIT 1");
    const recordId = String(upToNow[0]?.record_id);
    const signature = String(upToNow[0]?.signature);
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await world.server.database.query("UPDATE sync_records SET body = jsonb_set(body, '{signature}', to_jsonb($2::text)) WHERE record_id = $1", [recordId, flipped]);
    const file = await newDesktop();
    const session = await signIn(file);
    try {
      const outcome = await firstSync(world.client, session.replica, { history: 'later' });
      expect(outcome?.held).toBe(0);
      const history = await takeHistory(world.client, session.replica, { pageRecords: PAGE });
      expect(history?.held).toBeGreaterThan(0);
      const held = (await session.replica.applyPulled(await session.replica.vaultId(), [], { hold: true })).held;
      expect(held).toContainEqual({ id: recordId, kind: 'event', reason: 'A received audit event does not hold under its author\'s signature: nothing was applied.' });
      expect(held.filter((h) => h.id !== recordId).every((h) => /does not follow the last event|starts a device's chain whose id/.test(h.reason))).toBe(true);
      expect(eventIdSet(file).has(recordId.replaceAll('-', '').toLowerCase())).toBe(false);
      // What was taken holds; the history is not owed any more (what is refused stays set aside, as a pull's).
      expect((await session.verifyAuditLog()).chain).toMatchObject({ ok: true });
      expect(await session.replica.historyOwed()).toBeUndefined();
    } finally {
      await session.close();
      await world.server.database.query("UPDATE sync_records SET body = jsonb_set(body, '{signature}', to_jsonb($2::text)) WHERE record_id = $1", [recordId, signature]);
    }
  }, 300_000);
});
