/**
 * HISTORY_CHANGED never rolls a desktop back (review 14 hole 1; docs/SYNC.md "Faults"). The first
 * case is the reviewer's, unchanged (its file: review14-history-rollback.test.ts); the cases after
 * it go on from where it ends: no conflict copy was made of the desktops' own newer versions, the
 * server got them back (a2, alice's desktop left behind before the restore, takes them from it),
 * and the next syncs are quiet; then, after a second backup and restore, a different version
 * written at the very revision a and b agreed (by a2, inside the restored history) is a real
 * conflict: kept beside theirs as a conflict copy, never dropped as stale. Must never print a password.
 *
 * Review 14 (hostile, #15): HISTORY_CHANGED (0e6621a, 8bc8835) makes every agreed entry an unsent
 * change of this desktop, so the pull from 0 takes ANY older, validly signed version the server
 * hands as current: a later edit is pushed aside into a conflict copy (the older password becomes
 * the entry's) and a delete is undone with no copy and no word (conflictCopy keeps nothing of a
 * tombstone). What a restore from backup does honestly, a hostile server does at will: it holds
 * every older record already and answers HISTORY_CHANGED whenever it likes.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 * Expected to FAIL while the hole is open (it asserts what should hold).
 */
import { describe, expect, it } from 'vitest';
import { text, type Database } from '../../server/store/db';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 4, 40, 0));
const team = useTeamDesktops('crewvault-r14-rollback', clock);
const { a, a2, b, onDesktop, sync, setPassword } = team;

async function syncTables(db: Database): Promise<string[]> {
  const rows = await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'sync\\_%' AND table_name <> 'sync_vaults' ORDER BY table_name = 'sync_members', table_name");
  return rows.map((r) => text(r, 'table_name'));
}

async function backUp(db: Database): Promise<void> {
  for (const t of [...await syncTables(db), 'sync_vaults']) await db.query(`CREATE TABLE r14_${t} AS SELECT * FROM ${t}`);
}

/** The server's vault tables put back to the older copy: what a restore does, and what a hostile server may do at will. */
async function restore(db: Database): Promise<void> {
  const tables = await syncTables(db);
  await db.transaction(async (tx) => {
    for (const t of [...tables].reverse()) await tx.query(`DELETE FROM ${t}`);
    await tx.query('UPDATE sync_vaults v SET seq = b.seq FROM r14_sync_vaults b WHERE v.vault_id = b.vault_id');
    for (const t of tables) await tx.query(`INSERT INTO ${t} SELECT * FROM r14_${t}`);
  });
}

/** Every live entry of a desktop, title=password, sorted. */
async function entries(d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
}

describe('HISTORY_CHANGED takes an older signed version as current (review 14)', () => {
  it('keeps a later password current and a delete deleted after the server goes back to an older history', async () => {
    const db = team.server.database;
    for (const d of [a, b]) expect((await sync(d)).code).toBe('ok');
    await backUp(db);
    // After the copy: the owner rotates Printer's password (say, it leaked) and deletes Switch.
    await setPassword(a, 'Acme/Printer', 'p-2-rotated');
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      const sw = await s.resolvePath('Acme/Switch');
      await s.deleteEntry(sw.id, sw.revision ?? -1);
    });
    for (const d of [a, b, a, b]) expect((await sync(d)).code, d.name).toBe('ok');
    const before = { a: await entries(a), b: await entries(b) };
    expect(before.a).toEqual(['Firewall=f-1', 'Printer=p-2-rotated']);
    expect(before.b).toEqual(['Firewall=f-1', 'Printer=p-2-rotated']);

    // The server answers from the older history: HISTORY_CHANGED, then its older records from 0.
    await restore(db);
    const outs = [];
    for (const d of [a, b]) outs.push(await sync(d));
    const after = { a: await entries(a), b: await entries(b) };
    // What should hold: the rotated password stays the entry's, the deleted Switch stays deleted
    // (this desktop's newer versions go to the server, as 'what the server lacks sent again' promises).
    expect({ codes: outs.map((o) => o.code), a: after.a.filter((x) => !x.includes('(conflict copy)')), b: after.b.filter((x) => !x.includes('(conflict copy)')) })
      .toEqual({ codes: ['ok', 'ok'], a: ['Firewall=f-1', 'Printer=p-2-rotated'], b: ['Firewall=f-1', 'Printer=p-2-rotated'] });
  });

  it('makes no conflict copy of a desktop\'s own newer version, and the server gets them back', async () => {
    const all = { a: await entries(a), b: await entries(b) };
    // a2 synced before the backup was taken: its cursor stands inside the restored history, so it pulls on, from what a sent again.
    expect((await sync(a2)).code).toBe('ok');
    expect({ ...all, a2: await entries(a2) }).toEqual({
      a: ['Firewall=f-1', 'Printer=p-2-rotated'], b: ['Firewall=f-1', 'Printer=p-2-rotated'], a2: ['Firewall=f-1', 'Printer=p-2-rotated'],
    });
  });

  it('leaves the desktops settled: the next syncs take nothing in again and change nothing', async () => {
    const outs = [];
    for (const d of [a, b, a2, a]) outs.push(await sync(d));
    expect({ codes: outs.map((o) => o.code), told: outs.filter((o) => o.stdout.includes('taken in again from the start')).length, a: await entries(a), a2: await entries(a2) })
      .toEqual({ codes: ['ok', 'ok', 'ok', 'ok'], told: 0, a: ['Firewall=f-1', 'Printer=p-2-rotated'], a2: ['Firewall=f-1', 'Printer=p-2-rotated'] });
  });

  it('keeps a different version written at the very revision agreed here as a real conflict: both kept, neither older one', async () => {
    const db = team.server.database;
    // A new backup of where everyone stands now (Printer agreed at p-2-rotated everywhere).
    for (const t of [...await syncTables(db), 'sync_vaults']) await db.query(`DROP TABLE r14_${t}`);
    await backUp(db);
    await setPassword(a, 'Acme/Printer', 'p-3-a');
    for (const d of [a, b]) expect((await sync(d)).code, d.name).toBe('ok');
    await restore(db);
    // a2, whose cursor stands inside the restored history, writes the same revision a and b agreed, with other bytes.
    await setPassword(a2, 'Acme/Printer', 'p-3-a2');
    expect((await sync(a2)).code).toBe('ok');
    const outs = [];
    for (const d of [b, a, b, a2]) outs.push(await sync(d));
    const printers = async (d: Desktop): Promise<string[]> => [...new Set((await entries(d)).filter((x) => x.startsWith('Printer')))].sort();
    expect({ codes: outs.map((o) => o.code), a: await printers(a), b: await printers(b), a2: await printers(a2) }).toEqual({
      codes: ['ok', 'ok', 'ok', 'ok'],
      a: ['Printer (conflict copy)=p-3-a', 'Printer=p-3-a2'], b: ['Printer (conflict copy)=p-3-a', 'Printer=p-3-a2'], a2: ['Printer (conflict copy)=p-3-a', 'Printer=p-3-a2'],
    });
  });
});
