/**
 * A first sync meeting a record the server stored before a rule of the contract existed
 * (electron/team/snapshot-page.ts, docs/SYNC.md "Records a replica will not take"): a real team
 * server on PGlite, the owner's vault moved there, a new desktop's first sync through the real
 * client. The owner's stored user record is rewritten in the server's table to the role "Owner"
 * (as the server stored a custom role's spelling before one spelling was the rule, review round
 * twelve (a)); the snapshot hands stored bodies on as stored. Before, the page's parse failed and
 * with it every first sync of the vault (SERVER_UNREACHABLE); now that record is set aside in the
 * file with its reason, the rest taken in, the next sync goes on and still tells it.
 * Must never: mock the store, the client or the server.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { listing, useFirstDesktops } from '../support/first-desktops';
import { manualClock } from '../support/vault';

const ENTRIES = 12;
const clock = manualClock(Date.UTC(2026, 11, 1, 10, 0, 0));
const world = useFirstDesktops('crewvault-first-sync-unfit', clock, { entries: ENTRIES, customers: 3, deviceId: 'first-sync-unfit-device-00001' });

/** The file's set-aside records (id and reason), read beside the open session. */
function heldIn(file: string): Array<{ record_id: string; reason: string }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { record_id: string; reason: string }>('SELECT record_id, reason FROM replica_held').all();
  } finally {
    db.close();
  }
}

describe('a first sync meeting a record stored before a rule', () => {
  it('sets that record aside with its reason and takes the rest', async () => {
    const [user] = await world.server.database.query("SELECT record_id FROM sync_records WHERE kind = 'user'");
    const ownerRecord = String(user?.record_id);
    // What a server stored before the one-spelling rule, written into its table as it would have stored it.
    await world.server.database.query(`UPDATE sync_records SET body = jsonb_set(body::jsonb, '{role}', '"Owner"') WHERE record_id = $1`, [ownerRecord]);
    const file = await world.newDesktop();
    const session = await world.signIn(file);
    try {
      const outcome = await syncOnce(world.client, session.replica, { pullRecords: 5 });
      expect(outcome.held).toBe(1);
      const held = heldIn(file);
      expect(held.map((h) => h.record_id)).toEqual([ownerRecord]);
      expect(held[0]?.reason).toMatch(/^The server's record at sequence \d+ does not fit this desktop's record schema \(role\): stored there before a rule of it, or by another version\. Set aside; the rest was taken in\.$/);
      const owner = await world.signIn(world.ownerFile);
      try {
        expect(await listing(session)).toEqual(await listing(owner));
      } finally {
        await owner.close();
      }
      expect((await session.listEntries()).length).toBe(ENTRIES);
      // The next sync is an ordinary pull from where the snapshot ended: it goes on, and still tells what stays set aside.
      const again = await syncOnce(world.client, session.replica);
      expect(again.held).toBe(1);
      expect(heldIn(file).map((h) => h.record_id)).toEqual([ownerRecord]);
    } finally {
      await session.close();
    }
  });
});
