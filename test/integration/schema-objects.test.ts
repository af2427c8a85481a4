// The triggers a vault may hold are exactly those the migrations make (schema-objects.ts), and a
// vault holding any other trigger, or a view, is refused before anything writes to it.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS } from '../../electron/vault/migrations';
import { KNOWN_TRIGGERS, schemaObjectHash } from '../../electron/vault/schema-objects';
import { Vault } from '../../electron/vault/vault';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

/** Every trigger each schema version has, from an empty database taken up one version at a time. */
function triggersOfEveryVersion(): Set<string> {
  const db = new Database(':memory:');
  const seen = new Set<string>();
  for (const { version } of MIGRATIONS) {
    migrate(db, version);
    for (const t of db.prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()) seen.add(schemaObjectHash(t.name, t.sql));
  }
  db.close();
  return seen;
}

describe('schema objects', () => {
  it('KNOWN_TRIGGERS is exactly every trigger the migrations make (update it with a new migration)', () => {
    const made = triggersOfEveryVersion();
    expect([...KNOWN_TRIGGERS].sort(), JSON.stringify([...made].sort())).toEqual([...made].sort());
  });

  it.each([
    ['a trigger of its own', "CREATE TRIGGER steal AFTER UPDATE ON entries BEGIN UPDATE meta SET value = 'x' WHERE key = 'format'; END"],
    ['one of ours, rewritten', "DROP TRIGGER entries_written; CREATE TRIGGER entries_written AFTER UPDATE OF sealed_details ON entries BEGIN SELECT 1; END"],
    ['a view', 'CREATE VIEW peek AS SELECT * FROM users'],
    ['one of ours dropped', 'DROP TRIGGER entries_uid_fixed'],
  ])('a vault with %s is refused (VAULT_TAMPERED) and left as it is', async (_what, sql) => {
    const { file, session } = await newVault();
    await session.createEntry({ customer: 'Acme', title: 'VPN', password: 'p' });
    await session.close();
    const db = new Database(file);
    db.exec(sql);
    const before = db.prepare('SELECT count(*) AS n FROM audit_log').get();
    db.close();
    expect(() => Vault.open(file, manualClock())).toThrow(expect.objectContaining({ code: 'VAULT_TAMPERED' }));
    const after = new Database(file, { readonly: true });
    expect(after.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual(before);
    after.close();
  });

  it('an untouched vault opens', async () => {
    const { file, session, clock } = await newVault();
    await session.close();
    const vault = Vault.open(file, clock);
    (await vault.signIn(OWNER, PASSWORD)).lock();
    await vault.close();
  });

  it('a trigger stored with its type in capitals (the attacker\'s own sqlite3, writable_schema) is refused too', async () => {
    const { file, session } = await newVault();
    await session.close();
    const db = new Database(file);
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.prepare("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('TRIGGER', 'evil', 'audit_log', 0, ?)").run(EVIL);
    db.pragma('writable_schema = OFF');
    db.close();
    expect(() => Vault.open(file, manualClock())).toThrow(expect.objectContaining({ code: 'VAULT_TAMPERED' }));
    expect(pwned(file)).toBe(0);
  });

  it('a trigger added by another process while the vault is open is refused at the next write, before it runs', async () => {
    const { file, session, clock } = await newVault();
    await session.close();
    const vault = Vault.open(file, clock);
    const alice = await vault.signIn(OWNER, PASSWORD);
    const db = new Database(file);
    db.exec(EVIL);
    db.close();
    await expect(alice.createUser('bob', 'technician', 'bob password', FAST_KDF)).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    await vault.close();
    expect(pwned(file)).toBe(0);
  });
});

const EVIL = "CREATE TRIGGER evil AFTER INSERT ON audit_log BEGIN INSERT INTO meta (key, value) VALUES ('pwned-' || NEW.id, NEW.action); END";

function pwned(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'pwned-%'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}
