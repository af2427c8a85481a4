/**
 * A team server restored from a backup, or its vault's tables replaced, while desktops had pulled
 * past it (review 13b hole 1; docs/SYNC.md "Faults"). The first case is the reviewer's, unchanged:
 * the server's sync tables put back to a copy taken before a's edit, bob editing the same entry
 * after; every desktop converges with both edits kept. The reviewer's second case asked the route
 * for a pull from past the head after the first case: with the fix the first case leaves no desktop
 * past the head, so it is asked again after a second restore, and must be refused HISTORY_CHANGED
 * (not "caught up"). Added: the gap overtaken by others' pushes (the server's sequence back past
 * a's cursor, its records between never handed to a without history marks), and a vault's marks
 * replaced by another's (what putting another vault's tables in place does to them).
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import SqliteFile from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { text, type Database } from '../../server/store/db';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { CrewvaultError } from '../../shared/errors';

const clock = manualClock(Date.UTC(2026, 11, 1, 3, 0, 0));
const team = useTeamDesktops('crewvault-r13b-restored', clock);
const { a, b, c, onDesktop, sync, setPassword } = team;

/** The server's sync tables but the vaults' row (its sequence is put back in place), sync_members last (it names groups and people). */
async function syncTables(db: Database): Promise<string[]> {
  const rows = await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'sync\\_%' AND table_name <> 'sync_vaults' ORDER BY table_name = 'sync_members', table_name");
  return rows.map((r) => text(r, 'table_name'));
}

async function backUp(db: Database): Promise<void> {
  for (const t of [...await syncTables(db), 'sync_vaults']) await db.query(`CREATE TABLE r13b_${t} AS SELECT * FROM ${t}`);
}

/** Puts every sync table back as backUp found it, in one transaction (what restoring the backup does to the vault). */
async function restore(db: Database): Promise<void> {
  const tables = await syncTables(db);
  await db.transaction(async (tx) => {
    for (const t of [...tables].reverse()) await tx.query(`DELETE FROM ${t}`);
    await tx.query('UPDATE sync_vaults v SET seq = b.seq FROM r13b_sync_vaults b WHERE v.vault_id = b.vault_id');
    for (const t of tables) await tx.query(`INSERT INTO ${t} SELECT * FROM r13b_${t}`);
  });
}

/** Every live entry of a desktop: title and password, sorted. */
async function entries(d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
}

async function answer(d: Desktop): Promise<string> {
  const out = await sync(d);
  return out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`;
}

describe('a server restored from a backup while desktops had pulled past it', () => {
  it('converges every desktop, keeping both edits of the entry', async () => {
    const db = team.server.database;
    await backUp(db);
    await setPassword(a, 'Acme/Printer', 'p-alice-after-backup');
    // Each twice: the second pulls nothing new, so each desktop's cursor stands where the server's head stood.
    for (const d of [a, c, a, c]) expect(await answer(d)).toBe('ok');
    await restore(db);
    await setPassword(b, 'Acme/Printer', 'p-bob-after-restore');
    const answers: string[] = [];
    for (const d of [b, a, c, b, a, c]) answers.push(`${d.name}: ${await answer(d)}`);
    const [onA, onB, onC] = [await entries(a), await entries(b), await entries(c)];
    // Everyone holds the same entries (c sees the default group only), with both passwords kept somewhere.
    const all = [...onA, ...onB, ...onC].join('\n');
    const printers = [onA, onB, onC].map((l) => l.filter((x) => x.startsWith('Printer')));
    expect({ answers, printers, bothKept: all.includes('p-alice-after-backup') && all.includes('p-bob-after-restore') })
      .toEqual({ answers: answers.map((x) => `${x.split(':')[0] ?? ''}: ok`), printers: [printers[1], printers[1], printers[1]], bothKept: true });
  });

  it('refuses a pull from past its head HISTORY_CHANGED, and the desktop takes the vault in again', async () => {
    // Restored again to the copy taken before a's edit: c's cursor now stands past the head.
    const db = team.server.database;
    await restore(db);
    const vault = await onDesktop(c, (s) => s.replica.vaultId());
    const since = await onDesktop(c, (s) => s.replica.pulledUpTo());
    const [head] = await db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [vault]);
    const refused = await (await team.teamClient(c)).call('syncPull', { vault, since }).then(() => 'answered', (e: unknown) => (e instanceof CrewvaultError ? e.code : String(e)));
    const out = await sync(c);
    expect({ past: since > Number(head?.['seq']), refused, code: out.code, told: out.stdout.includes('not the one this desktop last synced with') })
      .toEqual({ past: true, refused: 'HISTORY_CHANGED', code: 'ok', told: true });
  });

  it('a gap the others\' pushes overtook is found by the history mark, not skipped', async () => {
    const db = team.server.database;
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    for (const d of [a, b, a]) expect(await answer(d)).toBe('ok');
    const cursor = await onDesktop(a, (s) => s.replica.pulledUpTo());
    await restore(db);
    // bob edits and syncs until the server's sequence is back past a's cursor: a's pull from there would skip his first edits.
    let i = 0;
    const headNow = async (): Promise<number> => Number((await db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [vault]))[0]?.['seq']);
    while (await headNow() <= cursor + 2) {
      i++;
      await setPassword(b, 'Acme/Switch', `s-bob-${i}`);
      expect(await answer(b)).toBe('ok');
    }
    const out = await sync(a);
    const onA = await entries(a);
    expect({ code: out.code, told: out.stdout.includes('not the one this desktop last synced with'), switch: onA.filter((x) => x.startsWith('Switch=')) })
      .toEqual({ code: 'ok', told: true, switch: [`Switch=s-bob-${i}`] });
    for (const d of [b, a, c, b]) expect(await answer(d)).toBe('ok');
    expect(await entries(a)).toEqual(await entries(b));
  });

  it('a vault whose marks are another history\'s (its tables replaced) is taken in anew, not pulled on from the cursor', async () => {
    const db = team.server.database;
    for (const d of [a, b, a]) expect(await answer(d)).toBe('ok');
    // The same sequence numbers, other marks: what another copy of the vault's tables holds. bob's
    // edit, not sent when his sync meets it, is kept (as a conflict copy where the server's version differs).
    await db.query("UPDATE sync_history_marks SET mark = 'another-history-' || seq::text || '-xxxxxxxx'");
    await setPassword(b, 'Acme/Printer', 'p-bob-replaced');
    const answers: string[] = [];
    for (const d of [b, a, c, a]) answers.push(`${d.name}: ${await answer(d)}`);
    const printers = [await entries(a), await entries(b)].map((l) => l.filter((x) => x.startsWith('Printer')));
    expect({ answers, same: printers[0], hasBob: (printers[1] ?? []).some((x) => x.endsWith('=p-bob-replaced')) })
      .toEqual({ answers: answers.map((x) => `${x.split(':')[0] ?? ''}: ok`), same: printers[1], hasBob: true });
  });

  it('an audit history still owed, ending past a restored head, is taken in with the rest instead of failing every sync', async () => {
    const db = team.server.database;
    for (const d of [a, c]) expect(await answer(d)).toBe('ok');
    const cursor = await onDesktop(c, (s) => s.replica.pulledUpTo());
    await restore(db);
    // What a first sync that left its history for later keeps: the events up to where its snapshot ended, none taken yet.
    const file = new SqliteFile(c.file);
    file.prepare("INSERT INTO meta (key, value) VALUES ('history_cursor', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(`${cursor}:0`);
    file.close();
    const out = await sync(c);
    const owed = await onDesktop(c, (s) => s.replica.historyOwed());
    expect({ code: out.code, told: out.stdout.includes('not the one this desktop last synced with'), owed }).toEqual({ code: 'ok', told: true, owed: undefined });
    expect(await answer(c)).toBe('ok');
  });
});
