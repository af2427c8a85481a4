/**
 * A first sync's entry indexes (electron/vault/store-bulk-indexes.ts, docs/SYNC.md "Speed" step 9)
 * through a real team server (PGlite, real HTTP on loopback) between real vault files: while the
 * snapshot's pages are written the entries' indexes on random keys are set aside, their SQL kept
 * in the file; the last page makes them again exactly as they were; a first sync cut short after
 * its first page leaves a file that answers the same (the indexes are not unique) and the next
 * sync, an ordinary pull, makes them again before it takes anything. A record of them that does
 * not read refuses the apply (VAULT_CORRUPT), never taken as nothing owed.
 * Must never: mock the store or the server.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { firstSync } from '../../electron/team/first-sync';
import { syncOnce } from '../../electron/team/sync';
import type { VaultSession } from '../../electron/vault/service';
import { listing, useFirstDesktops } from '../support/first-desktops';
import { manualClock } from '../support/vault';

const ENTRIES = 90;
const PAGE = 20;
const SET_ASIDE = ['entries_by_customer', 'entries_by_lookup', 'entries_live_by_group'];
const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const world = useFirstDesktops('crewvault-first-sync-indexes', clock, { entries: ENTRIES, customers: 3, deviceId: 'first-sync-indexes-device-0001' });
const { signIn, newDesktop } = world;

/** The file's entries indexes (name → SQL) and its record of those set aside, read beside the open session (WAL: a reader of its own). */
function indexesOf(file: string): { indexes: Map<string, string>; record: string | undefined } {
  const db = new Database(file, { readonly: true });
  try {
    const indexes = new Map(db.prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' AND sql IS NOT NULL").all().map((i) => [i.name, i.sql]));
    const record = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'bulk_entry_indexes'").get()?.value;
    return { indexes, record };
  } finally {
    db.close();
  }
}

/** The file's indexes made again as `expected`, no record of them left, and the session lists what the owner's vault does. */
async function expectIndexesBack(file: string, session: VaultSession, expected: Map<string, string>): Promise<void> {
  const after = indexesOf(file);
  expect(after.indexes).toEqual(expected);
  expect(after.record).toBeUndefined();
  const owner = await signIn(world.ownerFile);
  try {
    expect(await listing(session)).toEqual(await listing(owner));
  } finally {
    await owner.close();
  }
}

describe('a first sync\'s entry indexes', () => {
  it('are set aside while its pages are written and made again, the same, by its last', async () => {
    const before = indexesOf(world.blank).indexes;
    for (const name of SET_ASIDE) expect(before.get(name)).toMatch(/^CREATE INDEX /);
    const file = await newDesktop();
    const session = await signIn(file);
    const seen: Array<{ indexes: Map<string, string>; record: string | undefined }> = [];
    try {
      const outcome = await firstSync(world.client, session.replica, { pageRecords: PAGE, history: 'later', onPage: () => { seen.push(indexesOf(file)); } });
      expect(outcome?.held).toBe(0);
      // Between pages: none of the four, their SQL kept in the file; the uid and sequence indexes stay.
      const between = seen[0];
      expect(seen.length).toBeGreaterThan(2);
      for (const name of SET_ASIDE) expect(between?.indexes.has(name)).toBe(false);
      expect(between?.indexes.has('entries_by_uid')).toBe(true);
      expect(between?.indexes.has('entries_by_seq')).toBe(true);
      expect(JSON.parse(between?.record ?? '[]')).toHaveLength(SET_ASIDE.length);
      // After the last page: every index as a blank vault has it, and no record left.
      await expectIndexesBack(file, session, before);
    } finally {
      await session.close();
    }
  });

  it('cut short after its first page: the file answers the same, and the next sync makes them again before taking the rest', async () => {
    const file = await newDesktop();
    const session = await signIn(file);
    try {
      await expect(firstSync(world.client, session.replica, { pageRecords: PAGE, onPage: () => { throw new Error('the app closed'); } })).rejects.toThrow('the app closed');
      const cut = indexesOf(file);
      for (const name of SET_ASIDE) expect(cut.indexes.has(name)).toBe(false);
      expect(cut.record).toBeDefined();
      // What was written lists without them (none is unique: the same rows, found more slowly).
      expect((await session.listEntries()).length).toBeGreaterThan(0);
      expect(await session.replica.isEmpty()).toBe(false);
      const pulled = await syncOnce(world.client, session.replica);
      expect(pulled.held).toBe(0);
      await expectIndexesBack(file, session, indexesOf(world.blank).indexes);
    } finally {
      await session.close();
    }
  });

  it('a record of them that does not read refuses the apply, nothing taken', async () => {
    const file = await newDesktop();
    const session = await signIn(file);
    await expect(firstSync(world.client, session.replica, { pageRecords: PAGE, onPage: () => { throw new Error('the app closed'); } })).rejects.toThrow('the app closed');
    await session.close();
    const db = new Database(file);
    try {
      db.prepare("UPDATE meta SET value = '[{\"name\":\"entries_by_lookup\",\"sql\":\"DROP TABLE entries\"}]' WHERE key = 'bulk_entry_indexes'").run();
    } finally {
      db.close();
    }
    const again = await signIn(file);
    try {
      const held = (await again.listEntries()).length;
      await expect(syncOnce(world.client, again.replica)).rejects.toMatchObject({ code: 'VAULT_CORRUPT' });
      expect((await again.listEntries()).length).toBe(held);
    } finally {
      await again.close();
    }
  });
});
