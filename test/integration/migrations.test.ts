// Schema migrations: each one from the version before it, the version list, all-or-nothing runs, and refusing a newer vault.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, migrate, MIGRATIONS, schemaVersion } from '../../electron/vault/migrations';
import { CrewvaultError } from '../../shared/errors';
import { newVault } from '../support/vault';

interface TableShape {
  readonly strict: boolean;
  /** "name TYPE[ not null][ pk]" in column order. */
  readonly columns: string[];
  /** "[unique ](col, ...)" per index, automatic ones (PRIMARY KEY, UNIQUE) included. */
  readonly indexes: string[];
  /** "col -> table(col)[ on delete ACTION]". */
  readonly foreignKeys: string[];
}

/** The schema as SQLite itself reports it, SQLite's own tables left out. */
function schemaOf(db: Database.Database): Record<string, TableShape> {
  const tables = db.prepare<[], { name: string; strict: number }>("SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
  return Object.fromEntries(tables.map(({ name, strict }) => {
    const columns = db.prepare<[string], { name: string; type: string; notnull: number; pk: number }>('SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid').all(name)
      .map((c) => `${c.name} ${c.type}${c.notnull ? ' not null' : ''}${c.pk ? ' pk' : ''}`);
    const indexes = db.prepare<[string], { name: string; unique: number }>('SELECT name, "unique" FROM pragma_index_list(?)').all(name)
      .map((i) => {
        const cols = db.prepare<[string], { name: string }>('SELECT name FROM pragma_index_info(?) ORDER BY seqno').all(i.name).map((c) => c.name);
        return `${i.unique ? 'unique ' : ''}(${cols.join(', ')})`;
      })
      .sort();
    const foreignKeys = db.prepare<[string], { from: string; table: string; to: string; on_delete: string }>('SELECT "from", "table", "to", on_delete FROM pragma_foreign_key_list(?)').all(name)
      .map((f) => `${f.from} -> ${f.table}(${f.to})${f.on_delete === 'NO ACTION' ? '' : ` on delete ${f.on_delete}`}`)
      .sort();
    return [name, { strict: strict === 1, columns, indexes, foreignKeys }];
  }));
}

/** An in-memory database brought to `version` by the real migrations (0: empty). */
function databaseAt(version: number): Database.Database {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db, version);
  expect(schemaVersion(db)).toBe(version);
  return db;
}

const blob = (text: string): Buffer => Buffer.from(text, 'utf8');

// Schema 1 as shipped. A shipped migration never changes: a later schema is a new migration.
const SCHEMA_1: Record<string, TableShape> = {
  access_groups: {
    strict: true,
    columns: ['id INTEGER pk', 'key_version INTEGER not null', 'sealed_name BLOB not null', 'name_index BLOB not null', 'created_at INTEGER not null'],
    indexes: ['unique (name_index)'],
    foreignKeys: [],
  },
  audit_log: {
    strict: true,
    columns: [
      'id INTEGER pk', 'at INTEGER not null', 'actor_id INTEGER', 'action TEXT not null', 'subject TEXT', 'entry_id INTEGER', 'customer_id INTEGER',
      'group_id INTEGER', 'sealed_detail BLOB', 'prev_hash BLOB not null', 'hash BLOB not null',
    ],
    indexes: [],
    foreignKeys: [],
  },
  customers: {
    strict: true,
    columns: ['id INTEGER pk', 'sealed_name BLOB not null', 'name_index BLOB not null', 'created_at INTEGER not null'],
    indexes: ['unique (name_index)'],
    foreignKeys: [],
  },
  directory_keys: {
    strict: true,
    columns: ['user_id INTEGER pk', 'key_version INTEGER not null', 'wrapped_key BLOB not null'],
    indexes: [],
    foreignKeys: ['user_id -> users(id) on delete CASCADE'],
  },
  entries: {
    strict: true,
    columns: [
      'id INTEGER pk', 'customer_id INTEGER not null', 'group_id INTEGER not null', 'key_version INTEGER not null', 'lookup BLOB not null',
      'sealed_summary BLOB not null', 'sealed_details BLOB not null', 'created_at INTEGER not null', 'updated_at INTEGER not null',
    ],
    indexes: ['(customer_id)', '(group_id)', '(lookup)'],
    foreignKeys: ['customer_id -> customers(id)', 'group_id -> access_groups(id)'],
  },
  group_keys: {
    strict: true,
    columns: ['group_id INTEGER not null pk', 'user_id INTEGER not null pk', 'key_version INTEGER not null', 'wrapped_key BLOB not null', 'is_lead INTEGER not null'],
    indexes: ['unique (group_id, user_id)'],
    foreignKeys: ['group_id -> access_groups(id) on delete CASCADE', 'user_id -> users(id) on delete CASCADE'],
  },
  meta: { strict: true, columns: ['key TEXT not null pk', 'value TEXT not null'], indexes: ['unique (key)'], foreignKeys: [] },
  settings: { strict: true, columns: ['key TEXT not null pk', 'value TEXT not null'], indexes: ['unique (key)'], foreignKeys: [] },
  users: {
    strict: true,
    columns: [
      'id INTEGER pk', 'name TEXT not null', 'role TEXT not null', 'kdf TEXT not null', 'public_key BLOB not null',
      'sealed_private_key BLOB not null', 'created_at INTEGER not null', 'disabled_at INTEGER',
    ],
    indexes: ['unique (name)'],
    foreignKeys: [],
  },
};

/** One test per migration: build version N-1, insert what it holds, migrate to N, compare. */
const MIGRATION_TESTS: Record<number, { readonly name: string; readonly run: () => void }> = {
  1: {
    name: 'creates the initial schema on an empty database',
    run: () => {
      const db = databaseAt(0);
      expect(schemaOf(db)).toEqual({});
      migrate(db, 1);
      expect(schemaVersion(db)).toBe(1);
      expect(schemaOf(db)).toEqual(SCHEMA_1);
      // Representative rows fit, and the schema enforces what the design relies on.
      db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
      db.prepare('INSERT INTO access_groups (key_version, sealed_name, name_index, created_at) VALUES (1, ?, ?, 1)').run(blob('g'), blob('gi'));
      db.prepare('INSERT INTO group_keys (group_id, user_id, key_version, wrapped_key, is_lead) VALUES (1, 1, 1, ?, 1)').run(blob('wk'));
      db.prepare('INSERT INTO customers (sealed_name, name_index, created_at) VALUES (?, ?, 1)').run(blob('c'), blob('ci'));
      db.prepare('INSERT INTO entries (customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at) VALUES (1, 1, 1, ?, ?, ?, 1, 1)')
        .run(blob('l'), blob('s'), blob('d'));
      expect(db.prepare('SELECT customer_id, group_id, key_version, created_at FROM entries').all()).toEqual([{ customer_id: 1, group_id: 1, key_version: 1, created_at: 1 }]);
      expect(() => db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('ALICE', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk')))
        .toThrow(/UNIQUE/); // user names are unique case-insensitively
      expect(() => db.prepare('INSERT INTO entries (customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at) VALUES (9, 1, 1, ?, ?, ?, 1, 1)')
        .run(blob('l'), blob('s'), blob('d'))).toThrow(/FOREIGN KEY/);
      expect(() => db.prepare("UPDATE entries SET sealed_summary = 'plain text' WHERE id = 1").run()).toThrow(/cannot store TEXT value in BLOB column/);
      db.prepare('DELETE FROM users WHERE id = 1').run();
      expect(db.prepare('SELECT count(*) AS n FROM group_keys').get()).toEqual({ n: 0 }); // a member's wrapped keys go with them
    },
  },
  2: {
    name: 'adds sealed summary pages, leaving schema 1 and its rows as they were',
    run: () => {
      const db = databaseAt(1);
      db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
      db.prepare('INSERT INTO access_groups (key_version, sealed_name, name_index, created_at) VALUES (1, ?, ?, 1)').run(blob('g'), blob('gi'));
      db.prepare('INSERT INTO customers (sealed_name, name_index, created_at) VALUES (?, ?, 1)').run(blob('c'), blob('ci'));
      db.prepare('INSERT INTO entries (customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at) VALUES (1, 1, 1, ?, ?, ?, 1, 1)')
        .run(blob('l'), blob('s'), blob('d'));
      const before = db.prepare('SELECT * FROM entries').all();
      migrate(db, 2);
      expect(schemaVersion(db)).toBe(2);
      expect(schemaOf(db)).toEqual({
        ...SCHEMA_1,
        entry_pages: {
          strict: true,
          columns: ['group_id INTEGER not null pk', 'page_no INTEGER not null pk', 'key_version INTEGER not null', 'entry_count INTEGER not null', 'sealed BLOB not null'],
          indexes: ['unique (group_id, page_no)'],
          foreignKeys: ['group_id -> access_groups(id) on delete CASCADE'],
        },
      });
      expect(db.prepare('SELECT * FROM entries').all()).toEqual(before);
      // No pages yet: the service rebuilds them from the sealed entries on first list.
      expect(db.prepare('SELECT count(*) AS n FROM entry_pages').get()).toEqual({ n: 0 });
    },
  },
};

const SCHEMA_2: Record<string, TableShape> = {
  ...SCHEMA_1,
  entry_pages: {
    strict: true,
    columns: ['group_id INTEGER not null pk', 'page_no INTEGER not null pk', 'key_version INTEGER not null', 'entry_count INTEGER not null', 'sealed BLOB not null'],
    indexes: ['unique (group_id, page_no)'],
    foreignKeys: ['group_id -> access_groups(id) on delete CASCADE'],
  },
};

MIGRATION_TESTS[3] = {
  name: 'adds custom roles and the first-sign-in flag, existing users keeping their password',
  run: () => {
    const db = databaseAt(2);
    db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    migrate(db, 3);
    expect(schemaVersion(db)).toBe(3);
    const schema = schemaOf(db);
    expect(schema.roles).toEqual({ strict: true, columns: ['name TEXT not null pk', 'permissions TEXT not null', 'created_at INTEGER not null'], indexes: ['unique (name)'], foreignKeys: [] });
    expect(schema.users?.columns.at(-1)).toBe('must_change_password INTEGER not null');
    expect({ ...schema, roles: undefined, users: undefined }).toEqual({ ...SCHEMA_2, roles: undefined, users: undefined });
    expect(db.prepare('SELECT name, must_change_password FROM users').all()).toEqual([{ name: 'alice', must_change_password: 0 }]);
    db.prepare("INSERT INTO roles (name, permissions, created_at) VALUES ('Night shift', '[]', 1)").run();
    expect(() => db.prepare("INSERT INTO roles (name, permissions, created_at) VALUES ('NIGHT SHIFT', '[]', 1)").run()).toThrow(/UNIQUE/);
  },
};

MIGRATION_TESTS[4] = {
  name: 'adds sign-in MFA: columns on users, recovery and emergency codes, trusted devices',
  run: () => {
    const db = databaseAt(3);
    db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    migrate(db, 4);
    const schema = schemaOf(db);
    expect(schema.users?.columns.slice(-5)).toEqual(['mfa_sealed_secret BLOB', 'mfa_enabled_at INTEGER', 'mfa_last_step INTEGER', 'failed_passwords INTEGER not null', 'next_attempt_at INTEGER']);
    expect(Object.keys(schema)).toEqual(expect.arrayContaining(['mfa_recovery_codes', 'emergency_codes', 'trusted_devices']));
    expect(schema.trusted_devices?.indexes).toEqual(['unique (token_hash)']);
    expect(db.prepare('SELECT name, failed_passwords, mfa_enabled_at FROM users').all()).toEqual([{ name: 'alice', failed_passwords: 0, mfa_enabled_at: null }]);
    db.prepare('INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES (1, ?)').run(blob('h'));
    db.prepare('DELETE FROM users WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) AS n FROM mfa_recovery_codes').get()).toEqual({ n: 0 });
  },
};

MIGRATION_TESTS[5] = {
  name: 'keeps an authenticator setup between commands, wrong codes in a row, and when each person last signed in',
  run: () => {
    const db = databaseAt(4);
    db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    migrate(db, 5);
    expect(schemaOf(db).users?.columns.slice(-4)).toEqual(['mfa_pending_secret BLOB', 'mfa_pending_at INTEGER', 'last_sign_in_at INTEGER', 'failed_codes INTEGER not null']);
    expect(db.prepare('SELECT name, mfa_pending_secret, last_sign_in_at FROM users').all()).toEqual([{ name: 'alice', mfa_pending_secret: null, last_sign_in_at: null }]);
  },
};

MIGRATION_TESTS[6] = {
  name: 'gives groups a secret key of their own: existing groups marked unsplit, keys held as owner or admin marked by role',
  run: () => {
    const db = databaseAt(5);
    const user = db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES (?, ?, '{}', ?, ?, 1)");
    for (const [name, role] of [['alice', 'owner'], ['adam', 'admin'], ['tom', 'technician']]) user.run(name, role, blob('pk'), blob('sk'));
    db.prepare("INSERT INTO access_groups (key_version, sealed_name, name_index, created_at) VALUES (3, ?, ?, 1)").run(blob('n'), blob('i'));
    const wrap = db.prepare('INSERT INTO group_keys (group_id, user_id, key_version, wrapped_key, is_lead) VALUES (1, ?, 3, ?, ?)');
    for (const [userId, lead] of [[1, 1], [2, 0], [3, 0]]) wrap.run(userId, blob(`w${userId}`), lead);
    migrate(db, 6);
    const schema = schemaOf(db);
    expect(schema.access_groups?.columns.at(-1)).toBe('secret_split INTEGER not null');
    expect(schema.group_keys?.columns.slice(-2)).toEqual(['wrapped_secret_key BLOB', 'by_role INTEGER not null']);
    expect(db.prepare('SELECT id, key_version, secret_split FROM access_groups').all()).toEqual([{ id: 1, key_version: 3, secret_split: 0 }]);
    // The lead's own membership and the technician's stay theirs; the admin's is by role.
    expect(db.prepare('SELECT user_id, wrapped_key, wrapped_secret_key, by_role FROM group_keys ORDER BY user_id').all()).toEqual([
      { user_id: 1, wrapped_key: blob('w1'), wrapped_secret_key: null, by_role: 0 },
      { user_id: 2, wrapped_key: blob('w2'), wrapped_secret_key: null, by_role: 1 },
      { user_id: 3, wrapped_key: blob('w3'), wrapped_secret_key: null, by_role: 0 },
    ]);
  },
};

MIGRATION_TESTS[7] = {
  name: 'counts wrong passwords under unknown names, by keyed hash',
  run: () => {
    const db = databaseAt(6);
    db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    migrate(db, 7);
    const schema = schemaOf(db);
    expect(schema.unknown_name_attempts).toEqual({
      strict: true,
      columns: ['name_hash BLOB not null pk', 'failed_passwords INTEGER not null', 'next_attempt_at INTEGER', 'last_attempt_at INTEGER not null'],
      indexes: ['(last_attempt_at)', 'unique (name_hash)'],
      foreignKeys: [],
    });
    expect(db.prepare('SELECT name, failed_passwords FROM users').all()).toEqual([{ name: 'alice', failed_passwords: 0 }]);
    db.prepare('INSERT INTO unknown_name_attempts (name_hash, failed_passwords, last_attempt_at) VALUES (?, 1, 1)').run(blob('h'));
    expect(() => db.prepare('INSERT INTO unknown_name_attempts (name_hash, failed_passwords, last_attempt_at) VALUES (?, 1, 1)').run(blob('h'))).toThrow(/UNIQUE|PRIMARY KEY/);
  },
};

MIGRATION_TESTS[8] = {
  name: 'versions the directory key: existing wraps hold version 1, and a history table for older versions',
  run: () => {
    const db = databaseAt(7);
    db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    db.prepare('INSERT INTO directory_keys (user_id, key_version, wrapped_key) VALUES (1, 2, ?)').run(blob('wrap'));
    migrate(db, 8);
    const schema = schemaOf(db);
    expect(schema.directory_keys?.columns).toEqual(['user_id INTEGER pk', 'key_version INTEGER not null', 'wrapped_key BLOB not null', 'dir_version INTEGER not null']);
    expect(schema.directory_history).toEqual({ strict: true, columns: ['version INTEGER pk', 'sealed_key BLOB not null'], indexes: [], foreignKeys: [] });
    expect(db.prepare('SELECT user_id, key_version, dir_version, wrapped_key FROM directory_keys').all()).toEqual([{ user_id: 1, key_version: 2, dir_version: 1, wrapped_key: blob('wrap') }]);
  },
};

MIGRATION_TESTS[9] = {
  name: 'adds the MFA key wraps (owners hold each user\'s, for password resets), empty until people sign in',
  run: () => {
    const db = databaseAt(8);
    db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    migrate(db, 9);
    expect(schemaOf(db).mfa_key_wraps).toEqual({
      strict: true,
      columns: ['user_id INTEGER not null pk', 'holder_id INTEGER not null pk', 'wrapped_key BLOB not null'],
      indexes: ['unique (user_id, holder_id)'],
      foreignKeys: ['holder_id -> users(id) on delete CASCADE', 'user_id -> users(id) on delete CASCADE'],
    });
    expect(db.prepare('SELECT count(*) AS n FROM mfa_key_wraps').get()).toEqual({ n: 0 });
  },
};

MIGRATION_TESTS[10] = {
  name: 'gives every shared object a global id, a revision and a place in the vault sequence; deletes become tombstones',
  run: () => {
    const db = databaseAt(9);
    const at = Date.UTC(2026, 10, 1);
    db.prepare("INSERT INTO users (name, role, kdf, public_key, sealed_private_key, created_at) VALUES ('alice', 'owner', '{}', ?, ?, ?)").run(blob('pk'), blob('sk'), at);
    db.prepare("INSERT INTO roles (name, permissions, created_at) VALUES ('helpdesk', '[]', ?)").run(at);
    db.prepare('INSERT INTO access_groups (key_version, sealed_name, name_index, created_at) VALUES (1, ?, ?, ?)').run(blob('g'), blob('gi'), at);
    db.prepare('INSERT INTO group_keys (group_id, user_id, key_version, wrapped_key) VALUES (1, 1, 1, ?)').run(blob('w'));
    db.prepare('INSERT INTO customers (sealed_name, name_index, created_at) VALUES (?, ?, ?)').run(blob('c'), blob('ci'), at);
    const entry = db.prepare('INSERT INTO entries (customer_id, group_id, key_version, lookup, sealed_summary, sealed_details, created_at, updated_at) VALUES (1, 1, 1, ?, ?, ?, ?, ?)');
    for (const n of [1, 2]) entry.run(blob(`l${n}`), blob(`s${n}`), blob(`d${n}`), at + n, at + n);
    db.prepare("INSERT INTO audit_log (at, actor_id, action, prev_hash, hash) VALUES (?, 1, 'vault.create', ?, ?)").run(at, blob('p'), blob('h'));
    migrate(db, 10);

    const schema = schemaOf(db);
    for (const table of ['users', 'roles', 'access_groups', 'customers', 'entries']) {
      expect(schema[table]?.columns.slice(-3), table).toEqual(['uid BLOB', 'revision INTEGER not null', 'seq INTEGER not null']);
      expect(schema[table]?.indexes, table).toContain('unique (uid)');
    }
    expect(schema.entries?.columns).toContain('deleted_at INTEGER');
    expect(schema.audit_log?.columns.slice(-2)).toEqual(['uid BLOB', 'seq INTEGER not null']);
    // Every id is 16 bytes, a UUIDv7 dated by its row's creation, and unique; every row has its own place in the sequence.
    const ids = ['users', 'roles', 'access_groups', 'customers', 'entries', 'audit_log'].flatMap((table) => db.prepare<[], { uid: Buffer; seq: number }>(`SELECT uid, seq FROM ${table}`).all());
    expect(ids).toHaveLength(7);
    for (const { uid } of ids) {
      expect(uid).toHaveLength(16);
      expect(uid[6]! >> 4).toBe(7);
      expect(uid.readUIntBE(0, 6)).toBeGreaterThanOrEqual(at);
    }
    expect(new Set(ids.map((r) => r.uid.toString('hex'))).size).toBe(7);
    const linkSeqs = db.prepare<[], { seq: number }>('SELECT seq FROM group_keys').all().map((r) => r.seq);
    const seqs = [...ids.map((r) => r.seq), ...linkSeqs];
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(db.prepare('SELECT seq FROM vault_sequence').get()).toEqual({ seq: Math.max(...seqs) });
    expect(db.prepare("SELECT value FROM meta WHERE key = 'row_id_seals'").get()).toEqual({ value: 'pending' });

    // The triggers: a write to a shared column moves revision and sequence; a local one (backoff) does not.
    const before = db.prepare<[], { revision: number; seq: number }>('SELECT revision, seq FROM entries WHERE id = 1').get();
    db.prepare('UPDATE entries SET sealed_summary = ? WHERE id = 1').run(blob('s1b'));
    const after = db.prepare<[], { revision: number; seq: number }>('SELECT revision, seq FROM entries WHERE id = 1').get();
    expect(after?.revision).toBe((before?.revision ?? 0) + 1);
    expect(after?.seq).toBeGreaterThan(Math.max(...seqs));
    const user = db.prepare('SELECT revision, seq FROM users WHERE id = 1').get();
    db.prepare('UPDATE users SET failed_passwords = 3, next_attempt_at = 5 WHERE id = 1').run();
    expect(db.prepare('SELECT revision, seq FROM users WHERE id = 1').get()).toEqual(user);
    // No shared row without an id, and an id never changes.
    expect(() => db.prepare('INSERT INTO customers (sealed_name, name_index, created_at) VALUES (?, ?, 1)').run(blob('x'), blob('xi'))).toThrow(/global id/);
    expect(() => db.prepare('UPDATE entries SET uid = ? WHERE id = 2').run(Buffer.alloc(16))).toThrow(/never changes/);
    expect(db.prepare('SELECT count(*) AS n FROM entries WHERE deleted_at IS NULL').get()).toEqual({ n: 2 });
  },
};

MIGRATION_TESTS[11] = {
  name: 'adds signing keys, signed and device-linked audit events, and this desktop\'s device id; earlier events stay unsigned',
  run: () => {
    const db = databaseAt(10);
    db.prepare("INSERT INTO users (uid, name, role, kdf, public_key, sealed_private_key, created_at) VALUES (randomblob(16), 'alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    db.prepare("INSERT INTO audit_log (uid, at, actor_id, action, prev_hash, hash) VALUES (randomblob(16), 1, 1, 'vault.create', ?, ?)").run(blob('p'), blob('h'));
    migrate(db, 11);
    const schema = schemaOf(db);
    expect(schema.signing_keys?.columns).toEqual(['id INTEGER pk', 'uid BLOB not null', 'user_id INTEGER not null', 'public_key BLOB not null', 'created_at INTEGER not null', 'certified_by INTEGER', 'certificate BLOB', 'seq INTEGER not null']);
    expect(schema.users?.columns.slice(-2)).toEqual(['signing_key_id INTEGER', 'wrapped_signing_key BLOB']);
    expect(schema.audit_log?.columns.slice(-4)).toEqual(['device_id BLOB', 'device_prev BLOB', 'signer_key_id INTEGER', 'signature BLOB']);
    expect(db.prepare('SELECT action, signature, device_id FROM audit_log').all()).toEqual([{ action: 'vault.create', signature: null, device_id: null }]);
    const device = db.prepare<[], { device_id: Buffer }>('SELECT device_id FROM this_device').get();
    expect(device?.device_id).toHaveLength(16);
    // A user's signing key moves their revision (shared); a signing key never changes.
    const before = db.prepare<[], { revision: number }>('SELECT revision FROM users').get()?.revision ?? 0;
    db.prepare("INSERT INTO signing_keys (uid, user_id, public_key, created_at) VALUES (randomblob(16), 1, x'01', 1)").run();
    db.prepare('UPDATE users SET signing_key_id = 1').run();
    expect(db.prepare('SELECT revision FROM users').get()).toEqual({ revision: before + 1 });
    expect(() => db.prepare("UPDATE signing_keys SET public_key = x'02'").run()).toThrow(/never changes/);
  },
};

MIGRATION_TESTS[12] = {
  name: 'moves the sign-in counters and the last sign-in out of users into the local sign_in_state, values kept',
  run: () => {
    const db = databaseAt(11);
    const user = db.prepare("INSERT INTO users (uid, name, role, kdf, public_key, sealed_private_key, created_at, failed_passwords, failed_codes, next_attempt_at, last_sign_in_at) VALUES (randomblob(16), ?, 'owner', '{}', ?, ?, 1, ?, ?, ?, ?)");
    user.run('alice', blob('pk'), blob('sk'), 2, 4, 5000, 900);
    user.run('bob', blob('pk'), blob('sk'), 0, 0, null, null);
    const revisions = db.prepare('SELECT id, revision FROM users ORDER BY id').all();
    migrate(db, 12);
    const schema = schemaOf(db);
    expect(schema.users?.columns.join(' ')).not.toMatch(/failed_passwords|failed_codes|next_attempt_at|last_sign_in_at/);
    expect(schema.sign_in_state?.columns).toEqual(['user_id INTEGER pk', 'failed_passwords INTEGER not null', 'failed_codes INTEGER not null', 'next_attempt_at INTEGER', 'last_sign_in_at INTEGER']);
    expect(db.prepare('SELECT * FROM sign_in_state ORDER BY user_id').all()).toEqual([
      { user_id: 1, failed_passwords: 2, failed_codes: 4, next_attempt_at: 5000, last_sign_in_at: 900 },
      { user_id: 2, failed_passwords: 0, failed_codes: 0, next_attempt_at: null, last_sign_in_at: null },
    ]);
    // Local state never moves a user's (shared) revision.
    db.prepare('UPDATE sign_in_state SET failed_passwords = 7').run();
    expect(db.prepare('SELECT id, revision FROM users ORDER BY id').all()).toEqual(revisions);
  },
};

MIGRATION_TESTS[13] = {
  name: 'gives each user a place for their own sealed record of the signing keys they have seen, outside their shared revision',
  run: () => {
    const db = databaseAt(12);
    db.prepare("INSERT INTO users (uid, name, role, kdf, public_key, sealed_private_key, created_at) VALUES (randomblob(16), 'alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    const before = db.prepare('SELECT revision, seq FROM users').get();
    migrate(db, 13);
    expect(schemaOf(db).users?.columns.at(-1)).toBe('sealed_key_pins BLOB');
    db.prepare('UPDATE users SET sealed_key_pins = ?').run(blob('pins'));
    expect(db.prepare('SELECT revision, seq FROM users').get()).toEqual(before);
  },
};

MIGRATION_TESTS[14] = {
  name: 'lets each signing key vouch for its user\'s public key; keys made before have none until their user signs in',
  run: () => {
    const db = databaseAt(13);
    db.prepare("INSERT INTO users (uid, name, role, kdf, public_key, sealed_private_key, created_at) VALUES (randomblob(16), 'alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    db.prepare("INSERT INTO signing_keys (uid, user_id, public_key, created_at) VALUES (randomblob(16), 1, x'01', 1)").run();
    migrate(db, 14);
    expect(schemaOf(db).signing_keys?.columns.at(-1)).toBe('binding BLOB');
    expect(db.prepare('SELECT binding FROM signing_keys').all()).toEqual([{ binding: null }]);
  },
};

MIGRATION_TESTS[15] = {
  name: 'indexes live entries by group and customer, and recorded broken anchors, so counts and the sign-in check read no other row',
  run: () => {
    const db = databaseAt(14);
    migrate(db, 15);
    expect(schemaOf(db).entries?.indexes).toContain('(group_id, customer_id)');
    const plan = (sql: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    expect(plan('SELECT group_id, count(*) FROM entries WHERE group_id IN (1, 2) AND deleted_at IS NULL GROUP BY group_id')).toMatch(/entries_live_by_group/);
    expect(plan("SELECT id FROM audit_log WHERE action = 'audit.anchor_broken' ORDER BY id LIMIT 1")).toMatch(/audit_log_anchor_broken/);
  },
};

MIGRATION_TESTS[16] = {
  name: 'adds the local record of what this replica agreed on, empty: nothing was ever exchanged',
  run: () => {
    const db = databaseAt(15);
    migrate(db, 16);
    expect(schemaOf(db).replica_base?.columns).toEqual(['uid BLOB not null pk', 'revision INTEGER not null']);
    expect(db.prepare('SELECT count(*) AS n FROM replica_base').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM replica_state').get()).toEqual({ n: 0 });
    expect(() => db.prepare('INSERT INTO replica_state (id, sent_seq) VALUES (2, 0)').run()).toThrow(/CHECK/);
  },
};

MIGRATION_TESTS[17] = {
  name: 'adds a place for recovery codes kept sealed until seen, empty: codes shown before were seen',
  run: () => {
    const db = databaseAt(16);
    db.prepare("INSERT INTO users (uid, name, role, kdf, public_key, sealed_private_key, created_at) VALUES (randomblob(16), 'alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    migrate(db, 17);
    expect(schemaOf(db).mfa_unseen_recovery_codes?.columns).toEqual(['user_id INTEGER pk', 'sealed_codes BLOB not null']);
    expect(db.prepare('SELECT count(*) AS n FROM mfa_unseen_recovery_codes').get()).toEqual({ n: 0 });
    db.prepare('INSERT INTO mfa_unseen_recovery_codes (user_id, sealed_codes) VALUES (1, ?)').run(blob('sealed'));
    expect(() => db.prepare('INSERT INTO mfa_unseen_recovery_codes (user_id, sealed_codes) VALUES (2, ?)').run(blob('sealed'))).toThrow(/FOREIGN KEY/);
  },
};

MIGRATION_TESTS[18] = {
  name: 'lets a group be a tombstone: live groups stay live, and deleting one moves its revision and the sequence',
  run: () => {
    const db = databaseAt(17);
    const group = db.prepare("INSERT INTO access_groups (uid, key_version, secret_split, sealed_name, name_index, created_at) VALUES (randomblob(16), 1, 1, ?, ?, 1)");
    group.run(blob('sealed name'), blob('name index'));
    group.run(blob('sealed other'), blob('other index'));
    migrate(db, 18);
    expect(schemaOf(db).access_groups?.columns).toContain('deleted_at INTEGER');
    expect(db.prepare('SELECT id, deleted_at FROM access_groups ORDER BY id').all()).toEqual([{ id: 1, deleted_at: null }, { id: 2, deleted_at: null }]);
    const before = db.prepare('SELECT revision, seq FROM access_groups WHERE id = 1').get() as { revision: number; seq: number };
    db.prepare("UPDATE access_groups SET deleted_at = 5, sealed_name = x'', name_index = uid WHERE id = 1").run();
    const after = db.prepare('SELECT revision, seq FROM access_groups WHERE id = 1').get() as { revision: number; seq: number };
    expect(after.revision).toBe(before.revision + 1);
    expect(after.seq).toBeGreaterThan(before.seq);
    // A write that names deleted_at alone moves it too: the trigger counts the column.
    db.prepare('UPDATE access_groups SET deleted_at = NULL WHERE id = 2').run();
    expect(db.prepare('SELECT revision FROM access_groups WHERE id = 2').get()).toEqual({ revision: 2 });
  },
};

MIGRATION_TESTS[19] = {
  name: 'adds "server computes codes" to groups, off for every existing group, 0 or 1 only',
  run: () => {
    const db = databaseAt(18);
    db.prepare("INSERT INTO access_groups (uid, key_version, secret_split, sealed_name, name_index, created_at) VALUES (randomblob(16), 1, 1, ?, ?, 1)").run(blob('sealed name'), blob('name index'));
    const before = db.prepare('SELECT revision, seq FROM access_groups WHERE id = 1').get();
    migrate(db, 19);
    expect(schemaOf(db).access_groups?.columns).toContain('server_codes INTEGER not null');
    expect(db.prepare('SELECT server_codes FROM access_groups WHERE id = 1').get()).toEqual({ server_codes: 0 });
    expect(db.prepare('SELECT revision, seq FROM access_groups WHERE id = 1').get()).toEqual(before);
    db.prepare('UPDATE access_groups SET server_codes = 1 WHERE id = 1').run();
    expect(() => db.prepare('UPDATE access_groups SET server_codes = 2 WHERE id = 1').run()).toThrow(/CHECK/);
  },
};

MIGRATION_TESTS[20] = {
  name: "indexes sign-in rows by person, so the sign-in's record check reads no other row of the log",
  run: () => {
    const db = databaseAt(19);
    db.prepare("INSERT INTO users (uid, name, role, kdf, public_key, sealed_private_key, created_at) VALUES (randomblob(16), 'alice', 'owner', '{}', ?, ?, 1)").run(blob('pk'), blob('sk'));
    const device = blob('device one');
    const insert = db.prepare('INSERT INTO audit_log (uid, at, actor_id, action, device_id, prev_hash, hash) VALUES (randomblob(16), ?, 1, ?, ?, ?, ?)');
    for (let i = 0; i < 50; i += 1) insert.run(i, i % 10 === 0 ? 'signin.ok' : 'entry.create', device, blob(`prev ${i}`), blob(`hash ${i}`));
    const before = db.prepare('SELECT count(*) AS n FROM audit_log').get();
    migrate(db, 20);
    expect(db.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual(before);
    expect(schemaOf(db).audit_log?.indexes).toContain('(actor_id, id)');
    // The exact shapes store-audit.ts asks at every sign-in (no statistics, as in a real vault file).
    const plan = (sql: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(1, device) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    expect(plan("SELECT * FROM audit_log WHERE actor_id = ? AND action = 'signin.ok' AND signature IS NOT NULL AND device_id = ? ORDER BY id DESC LIMIT 1")).toMatch(/audit_log_signins/);
    const newest = db.prepare("SELECT at FROM audit_log INDEXED BY audit_log_signins WHERE actor_id = ? AND action = 'signin.ok' AND device_id = ? ORDER BY id DESC LIMIT 1").get(1, device);
    expect(newest).toEqual({ at: 40 });
  },
};

MIGRATION_TESTS[21] = {
  name: 'gives audit rows a v3 scope, body salt and body digest, null on every row before, of their lengths only',
  run: () => {
    const db = databaseAt(20);
    const insert = db.prepare('INSERT INTO audit_log (uid, at, action, subject, prev_hash, hash) VALUES (randomblob(16), ?, ?, ?, ?, ?)');
    for (let i = 0; i < 3; i += 1) insert.run(i, 'entry.create', `row ${i}`, blob(`prev ${i}`), blob(`hash ${i}`));
    const before = db.prepare('SELECT * FROM audit_log ORDER BY id').all();
    migrate(db, 21);
    for (const column of ['scope BLOB', 'body_salt BLOB', 'body_digest BLOB']) expect(schemaOf(db).audit_log?.columns).toContain(column);
    const after = db.prepare('SELECT * FROM audit_log ORDER BY id').all() as Array<Record<string, unknown>>;
    expect(after.map(({ scope: _s, body_salt: _b, body_digest: _d, ...rest }) => rest)).toEqual(before);
    expect(after.map((r) => [r.scope, r.body_salt, r.body_digest])).toEqual([[null, null, null], [null, null, null], [null, null, null]]);
    db.prepare('UPDATE audit_log SET scope = randomblob(32), body_digest = randomblob(32) WHERE id = 1').run();
    db.prepare('UPDATE audit_log SET scope = randomblob(32), body_salt = randomblob(16) WHERE id = 2').run();
    expect(() => db.prepare('UPDATE audit_log SET scope = randomblob(31) WHERE id = 3').run()).toThrow(/CHECK/);
    expect(() => db.prepare('UPDATE audit_log SET body_salt = randomblob(32) WHERE id = 3').run()).toThrow(/CHECK/);
    expect(() => db.prepare('UPDATE audit_log SET body_digest = randomblob(16) WHERE id = 3').run()).toThrow(/CHECK/);
  },
};

describe('schema migrations', () => {
  it('are numbered 1, 2, 3, … with no gap, and the latest is LATEST_SCHEMA_VERSION', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('each have a test here', () => {
    expect(Object.keys(MIGRATION_TESTS).map(Number)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  for (const { version } of MIGRATIONS) {
    const test = MIGRATION_TESTS[version];
    it(`${version}: ${test?.name ?? 'has no test (add one to MIGRATION_TESTS)'}`, () => {
      expect(test).toBeDefined();
      test?.run();
    });
  }

  it('taken one at a time, reach the same schema as a newly created vault', async () => {
    const db = databaseAt(0);
    for (const { version } of MIGRATIONS) migrate(db, version);
    const { file } = await newVault();
    const created = new Database(file, { readonly: true });
    try {
      expect(schemaVersion(created)).toBe(LATEST_SCHEMA_VERSION);
      expect(schemaOf(db)).toEqual(schemaOf(created));
    } finally {
      created.close();
    }
  });

  it('change nothing when the database is already at the latest version', () => {
    const db = databaseAt(LATEST_SCHEMA_VERSION);
    const before = schemaOf(db);
    migrate(db);
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(schemaOf(db)).toEqual(before);
  });

  it('run all or nothing: a migration that fails leaves the database as it was', () => {
    const db = databaseAt(0);
    db.exec('CREATE TABLE settings (key TEXT)'); // the last table migration 1 creates: it will fail there
    expect(() => migrate(db)).toThrow(/settings already exists/);
    expect(schemaVersion(db)).toBe(0);
    expect(Object.keys(schemaOf(db))).toEqual(['settings']);
  });

  it('refuse a database newer than this app with VAULT_NEWER, changing nothing', () => {
    const db = databaseAt(0);
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    expect(() => migrate(db)).toThrow(CrewvaultError);
    expect(() => migrate(db)).toThrow(expect.objectContaining({ code: 'VAULT_NEWER' }));
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION + 1);
    expect(schemaOf(db)).toEqual({});
  });
});
