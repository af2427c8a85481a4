// A checkpoint a reader kept from finishing is owed and tried again (review round eleven hole 3,
// the reviewer's case kept; plus: the delete does not stall on the reader, and the timer alone
// finishes the wipe once the reader is gone). Was:
// Review round eleven, hole (class: a checkpoint that silently fails while another connection reads
// the WAL is never retried, so the wiped seal stays in the files). bb8db08 checkpoints once after a
// write that replaces sealed bytes; a reader that holds a snapshot at that moment (the CLI listing
// in another process, the app's own second handle, a backup tool) keeps wal_checkpoint(TRUNCATE)
// from finishing, the pragma answers busy (no throw), and only the NEXT write that itself replaces
// a seal tries again. Inserts, reads and sign-ins never do. Real files; nothing printed.
// FAILS on 70c7f83.
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteVaultStore, WIPE_RETRY_MS } from '../../electron/vault/store';
import { ENTRY_PASSWORD, Vault, newVault, OWNER, PASSWORD } from '../support/review-nine';

function filesHold(file: string, needle: Buffer): string[] {
  return [file, `${file}-wal`].filter((f) => existsSync(f) && readFileSync(f).includes(needle)).map((f) => f.slice(file.length) || 'vault');
}

describe('HOLE r11-checkpoint (class: a checkpoint blocked by a reader is never retried)', () => {
  it('a delete made while another connection holds a read snapshot leaves the sealed details in the files after that reader ends and later writes happen', async () => {
    const { file, session: created, clock } = await newVault();
    created.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    const doomed = await session.createEntry({ customer: 'Acme', title: 'Old firewall', password: ENTRY_PASSWORD });
    await vault.store.checkpoint();
    const sealed = await vault.store.read((r) => r.prepare<[number], { sealed_details: Buffer }>('SELECT sealed_details FROM entries WHERE id = ?').get(doomed.id)?.sealed_details);
    if (!sealed) throw new Error('no sealed details');
    const middle = sealed.subarray(13, 13 + 24);

    // Another process's read (crewvault ls in a terminal): a snapshot open across the delete.
    const reader = new Database(file, { readonly: true });
    reader.pragma('busy_timeout = 0');
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) FROM entries').get();
    await session.deleteEntry(doomed.id, (await session.getEntry(doomed.id)).revision);
    reader.prepare('COMMIT').run();
    reader.close();

    // The working day goes on: new entries, reads; nothing that replaces a seal.
    await session.createEntry({ customer: 'Acme', title: 'New firewall', password: 'another' });
    await session.createEntry({ customer: 'Acme', title: 'Switch', password: 'a third' });
    const found = filesHold(file, middle);
    session.lock();
    await vault.close();
    expect(found, 'the deleted entry\'s sealed details are still in the vault files, the reader long gone').toEqual([]);
  }, 30_000);

  afterEach(() => {
    vi.useRealTimers();
  });

  it('the delete does not wait seconds on the reader; the wipe is owed, and the retry timer finishes it once the reader is gone', async () => {
    const { file, session: created, clock } = await newVault();
    created.lock();
    const vault = Vault.open(file, clock);
    const store = vault.store;
    if (!(store instanceof SqliteVaultStore)) throw new Error('not the SQLite store');
    const session = await vault.signIn(OWNER, PASSWORD);
    const doomed = await session.createEntry({ customer: 'Acme', title: 'Old firewall', password: ENTRY_PASSWORD });
    await store.checkpoint();
    const sealed = await store.read((r) => r.prepare<[number], { sealed_details: Buffer }>('SELECT sealed_details FROM entries WHERE id = ?').get(doomed.id)?.sealed_details);
    if (!sealed) throw new Error('no sealed details');
    const middle = sealed.subarray(13, 13 + 24);
    const revision = (await session.getEntry(doomed.id)).revision;
    expect(store.wipeOwed).toBe(false);

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const reader = new Database(file, { readonly: true });
    reader.pragma('busy_timeout = 0');
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) FROM entries').get();
    const started = performance.now();
    await session.deleteEntry(doomed.id, revision);
    const took = performance.now() - started;
    expect(took, 'the delete waited on the reader\'s snapshot').toBeLessThan(2_000);
    expect(store.wipeOwed).toBe(true);
    vi.advanceTimersByTime(WIPE_RETRY_MS); // the reader still holds its snapshot: still owed
    expect(store.wipeOwed).toBe(true);

    reader.prepare('COMMIT').run();
    reader.close();
    vi.advanceTimersByTime(WIPE_RETRY_MS); // nothing read or written since: the timer alone
    const owedAfter = store.wipeOwed;
    const found = filesHold(file, middle);
    vi.useRealTimers();
    session.lock();
    await vault.close();
    expect(owedAfter).toBe(false);
    expect(found, 'the deleted entry\'s sealed details are still in the vault files after the retry').toEqual([]);
  }, 30_000);
});
