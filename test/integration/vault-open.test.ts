// Opening files that are not healthy vaults: refused with a stable code, and left as they were.
import Database from 'better-sqlite3';
import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, LATEST_SCHEMA_VERSION } from '../../electron/vault/migrations';
import { Vault } from '../../electron/vault/vault';
import { crewvault } from '../support/cli';
import { newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

describe('opening a vault', () => {
  it('leaves a SQLite file that is not a vault byte for byte unchanged', () => {
    const file = path.join(tempFolder(), 'notes.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (\'hello\');');
    db.close();
    const before = readFileSync(file);
    expect(() => Vault.open(file)).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT' }));
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses to migrate past the newest schema it knows', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, LATEST_SCHEMA_VERSION + 4)).toThrow(/no migration to schema/);
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();
  });

  it('answers VAULT_CORRUPT, not a crash, when pages are damaged under a read', async () => {
    const { file, session } = await newVault();
    await session.createEntries(Array.from({ length: 300 }, (_, i) => ({ customer: `Customer ${i % 7}`, title: `Entry ${i}`, username: `user${i}`, notes: 'n'.repeat(200) })));
    await session.close();
    const pageSize = 4096;
    const fd = openSync(file, 'r+');
    for (const page of [6, 7, 8]) writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, page * pageSize);
    closeSync(fd);
    const result = crewvault(['list', '--vault', file, '--user', OWNER], { input: `${PASSWORD}\n` });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^crewvault: VAULT_(CORRUPT|TAMPERED): [^\n]+\n$/);
  });
});
