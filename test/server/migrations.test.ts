/**
 * The server's schema upgrades, on PostgreSQL and PGlite alike: one transaction for all
 * pending migrations, the version recorded, a second run a no-op, a database from a newer
 * server refused before anything changes, a failing migration leaving nothing behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { text } from '../../server/store/db';
import { checkMigrationOrder, latestSchemaVersion, migrate, schemaVersion } from '../../server/store/migrate';
import { MIGRATIONS } from '../../server/store/migrations/index';
import { sealDigestsOf } from '../../server/store/codes';
import { groupsWithMembership } from '../../server/store/membership';
import { DATABASE_KINDS, useTestDatabases } from './databases';

const databases = useTestDatabases();

async function tableNames(db: Awaited<ReturnType<typeof databases.open>>): Promise<string[]> {
  const rows = await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
  return rows.map((row) => text(row, 'table_name'));
}

describe('migration list', () => {
  it('runs 1, 2, 3… with no gap or repeat', () => {
    expect(() => checkMigrationOrder(MIGRATIONS)).not.toThrow();
    expect(() => checkMigrationOrder([...MIGRATIONS, { version: MIGRATIONS.length + 2, name: 'gap', sql: '' }])).toThrow(/expected/);
  });
});

describe.each(DATABASE_KINDS)('migrations on %s', (kind) => {
  it('builds the schema on an empty database, records the version, and is a no-op the second time', async () => {
    const db = await databases.open(kind);
    expect(await schemaVersion(db)).toBe(0);
    expect(await migrate(db)).toEqual({ from: 0, to: latestSchemaVersion() });
    expect(await schemaVersion(db)).toBe(latestSchemaVersion());
    expect(await tableNames(db)).toEqual([
      'admin_grants', 'automation_tokens', 'code_throttle', 'crewvault_schema', 'delivery_settings', 'devices', 'invites', 'login_attempts', 'mfa_authenticators', 'mfa_emergency_codes', 'mfa_recovery_codes',
      'mfa_sent_codes', 'mfa_throttle', 'server_audit', 'server_code_groups', 'server_code_keys', 'server_settings', 'sessions', 'sign_in_throttle', 'sync_batches', 'sync_devices', 'sync_entry_moves', 'sync_groups', 'sync_history_marks', 'sync_left_reach', 'sync_members', 'sync_people', 'sync_records', 'sync_secret_key_held', 'sync_signing_keys', 'sync_vaults', 'user_contacts', 'users',
    ]);
    expect(await migrate(db)).toEqual({ from: latestSchemaVersion(), to: latestSchemaVersion() });
  });

  it('refuses a database written by a newer server, changing nothing', async () => {
    const db = await databases.open(kind);
    await migrate(db);
    await db.query('UPDATE crewvault_schema SET version = $1', [latestSchemaVersion() + 1]);
    const refused = await migrate(db).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CrewvaultError);
    expect((refused as CrewvaultError).code).toBe('VAULT_NEWER');
    expect(await schemaVersion(db)).toBe(latestSchemaVersion() + 1);
  });

  it('applies every pending migration in one transaction: a failing one leaves the database as it was', async () => {
    const db = await databases.open(kind);
    const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();' }];
    await expect(migrate(db, broken)).rejects.toThrow();
    expect(await tableNames(db)).toEqual([]);
    expect(await schemaVersion(db)).toBe(0);
  });

  it('upgrades schema 1 in place, keeping its rows', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 1))).toEqual({ from: 0, to: 1 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    expect(await migrate(db)).toEqual({ from: 1, to: latestSchemaVersion() });
    expect(await db.query('SELECT id, username, role FROM users')).toEqual([{ id: 'u1', username: 'Ada', role: 'owner' }]);
    expect(await db.query('SELECT count(*)::int AS n FROM sign_in_throttle')).toEqual([{ n: 0 }]);
    // Schema 3: a row from before has no sealed keys yet.
    expect(await db.query('SELECT sealed_keys FROM users')).toEqual([{ sealed_keys: null }]);
  });

  it('upgrades schema 4 in place: a session from before has done no second step and no wrong code yet', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 4))).toEqual({ from: 0, to: 4 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query(`INSERT INTO sessions (id, user_id, device_id, created_at, authenticated_at, access_hash, access_expires_at, refresh_hash, refresh_expires_at)
      VALUES ('s1', 'u1', 'd1', 1, 1, 'a1', 2, 'r1', 3)`);
    expect(await migrate(db)).toEqual({ from: 4, to: latestSchemaVersion() });
    expect(await db.query('SELECT id, second_step_at, wrong_codes FROM sessions')).toEqual([{ id: 's1', second_step_at: null, wrong_codes: 0 }]);
    expect(await db.query('SELECT count(*)::int AS n FROM mfa_authenticators')).toEqual([{ n: 0 }]);
  });

  it('upgrades schema 7 in place: people have no address, sessions no sent code, nobody a device yet', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 7))).toEqual({ from: 0, to: 7 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query(`INSERT INTO sessions (id, user_id, device_id, created_at, authenticated_at, access_hash, access_expires_at, refresh_hash, refresh_expires_at, second_step_at)
      VALUES ('s1', 'u1', 'd1', 1, 1, 'a1', 2, 'r1', 3, 1)`);
    expect(await migrate(db)).toEqual({ from: 7, to: latestSchemaVersion() });
    // Schema 10: a session from before signed in with no device token, so no device counts as proven for it.
    expect(await db.query('SELECT id, device_id, second_step_at, device_token_hash FROM sessions')).toEqual([
      { id: 's1', device_id: 'd1', second_step_at: kind === 'pglite' ? 1 : '1', device_token_hash: null },
    ]);
    for (const table of ['user_contacts', 'mfa_sent_codes', 'delivery_settings', 'devices']) {
      expect(await db.query(`SELECT count(*)::int AS n FROM ${table}`)).toEqual([{ n: 0 }]);
    }
  });

  it('upgrades schema 12 in place: an admin from before holds no grant, and a grant names a known permission', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 12))).toEqual({ from: 0, to: 12 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1), ('u2', 'Bo', 'bo', 'admin', 'rec', 1, 1)");
    expect(await migrate(db)).toEqual({ from: 12, to: latestSchemaVersion() });
    expect(await db.query('SELECT count(*)::int AS n FROM admin_grants')).toEqual([{ n: 0 }]);
    await db.query("INSERT INTO admin_grants (user_id, permission, granted_by, granted_at) VALUES ('u2', 'mfa_reset', 'u1', 5)");
    await expect(db.query("INSERT INTO admin_grants (user_id, permission, granted_by, granted_at) VALUES ('u2', 'everything', 'u1', 5)")).rejects.toThrow();
  });

  it('upgrades schema 13 in place: a vault\'s creator keeps its first-push binding as its owner, every other binding keeps its account with no role yet', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 13))).toEqual({ from: 0, to: 13 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1), ('u2', 'Bo', 'bo', 'member', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 2, 'u1', 1)");
    await db.query("INSERT INTO sync_authors (vault_id, author, user_id) VALUES ('v1', 'a-ada', 'u1'), ('v1', 'b-bo', 'u2'), ('v1', 'c-bo-again', 'u2')");
    expect(await migrate(db)).toEqual({ from: 13, to: latestSchemaVersion() });
    // One account, one vault user: of the two users u2 had signed as, the first is kept.
    expect(await db.query('SELECT vault_user, account_id, role, disabled FROM sync_people ORDER BY vault_user')).toEqual([
      { vault_user: 'a-ada', account_id: 'u1', role: 'owner', disabled: false },
      { vault_user: 'b-bo', account_id: 'u2', role: null, disabled: false },
    ]);
    await expect(db.query("INSERT INTO sync_people (vault_id, vault_user, account_id) VALUES ('v1', 'd', 'u1')")).rejects.toThrow();
    await expect(db.query("INSERT INTO sync_members (vault_id, group_id, vault_user, key_version, is_lead, wrapped) VALUES ('v1', 'no-such-group', 'a-ada', 1, false, '')")).rejects.toThrow();
    await db.query("INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES ('v1', 'r1', 'member', 1, 3, 'u1', '{}')");
  });

  it('upgrades schema 16 in place: the certified keys a vault holds are indexed, and each device is bound to its first pusher with its last event\'s link', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 16))).toEqual({ from: 0, to: 16 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1), ('u2', 'Bo', 'bo', 'member', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 4, 'u1', 1)");
    const signatures = [randomBytes(64), randomBytes(64), randomBytes(64)];
    const event = (id: string, device: string, signature: Buffer): string => JSON.stringify({ kind: 'event', id, device, signature: signature.toString('base64url') });
    await db.query(`INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES
      ('v1', 'k1', 'signing_key', 1, 1, 'u1', $1::jsonb), ('v1', 'e1', 'event', 1, 2, 'u2', $2::jsonb), ('v1', 'e2', 'event', 1, 3, 'u1', $3::jsonb), ('v1', 'e3', 'event', 1, 4, 'u1', $4::jsonb)`, [
      JSON.stringify({ kind: 'signing_key', id: 'k1', user: 'bo', publicKey: 'pk', certifiedBy: 'k0', certificate: 'cert' }),
      event('e1', 'dA', signatures[0] ?? Buffer.alloc(0)), event('e2', 'dA', signatures[1] ?? Buffer.alloc(0)), event('e3', 'dB', signatures[2] ?? Buffer.alloc(0)),
    ]);
    expect(await migrate(db)).toEqual({ from: 16, to: latestSchemaVersion() });
    expect(await db.query('SELECT key_id, vault_user, public_key, certified_by, certificate FROM sync_signing_keys')).toEqual([{ key_id: 'k1', vault_user: 'bo', public_key: 'pk', certified_by: 'k0', certificate: 'cert' }]);
    const link = (signature: Buffer | undefined): string => createHash('sha256').update(signature ?? Buffer.alloc(0)).digest('base64url');
    // Device A: first pushed by u2, its head the link of its last event (e2, pushed by u1).
    expect(await db.query('SELECT device, account_id, head FROM sync_devices ORDER BY device')).toEqual([
      { device: 'dA', account_id: 'u2', head: link(signatures[1]) },
      { device: 'dB', account_id: 'u1', head: link(signatures[2]) },
    ]);
  });

  it('upgrades schema 20 in place: each device belongs to the vault user who signed its first event, whoever pushed it', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 20))).toEqual({ from: 0, to: 20 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 3, 'u1', 1)");
    // The owner's account pushed both of dA's events (a move relaying bo's): schema 17 bound dA to u1.
    const event = (id: string, actor: string): string => JSON.stringify({ kind: 'event', id, actor, device: 'dA', signature: randomBytes(64).toString('base64url') });
    await db.query(`INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES
      ('v1', 'e1', 'event', 1, 1, 'u1', $1::jsonb), ('v1', 'e2', 'event', 1, 2, 'u1', $2::jsonb)`, [event('e1', 'bo'), event('e2', 'bo')]);
    await db.query("INSERT INTO sync_devices (vault_id, device, account_id, head) VALUES ('v1', 'dA', 'u1', 'h')");
    expect(await migrate(db)).toEqual({ from: 20, to: latestSchemaVersion() });
    expect(await db.query('SELECT device, vault_user, account_id, head FROM sync_devices')).toEqual([{ device: 'dA', vault_user: 'bo', account_id: 'u1', head: 'h' }]);
  });

  it('upgrades schema 21 in place: records from before carry no scope or digest (v1 and v2 events are never redacted), and a scope needs its digest on an event', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 21))).toEqual({ from: 0, to: 21 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 2, 'u1', 1)");
    const body = JSON.stringify({ kind: 'event', id: 'e1', actor: 'bo', entry: 'x', device: 'dA', signature: randomBytes(64).toString('base64url') });
    await db.query("INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES ('v1', 'e1', 'event', 1, 1, 'u1', $1::jsonb)", [body]);
    expect(await migrate(db)).toEqual({ from: 21, to: latestSchemaVersion() });
    expect(await db.query("SELECT record_id, scope, body_digest, body->>'entry' AS entry FROM sync_records")).toEqual([{ record_id: 'e1', scope: null, body_digest: null, entry: 'x' }]);
    const digest = 'ab'.repeat(32);
    await expect(db.query(`INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body, scope) VALUES ('v1', 'e2', 'event', 1, 2, 'u1', '{}'::jsonb, '${digest}')`)).rejects.toThrow(/sync_records_v3_event/);
    await expect(db.query(`INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body, scope, body_digest) VALUES ('v1', 'k2', 'entry', 1, 2, 'u1', '{}'::jsonb, '${digest}', '${digest}')`)).rejects.toThrow(/sync_records_v3_event/);
  });

  it('upgrades schema 22 in place: records from before kept, and role, settings and mfa_policy records taken from then on (an unknown kind still refused)', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 22))).toEqual({ from: 0, to: 22 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 2, 'u1', 1)");
    await db.query("INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES ('v1', 'g1', 'group', 1, 1, 'u1', '{}'::jsonb)");
    await expect(db.query("INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES ('v1', 'r0', 'role', 1, 2, 'u1', '{}'::jsonb)")).rejects.toThrow(/sync_records_kind_check/);
    expect(await migrate(db)).toEqual({ from: 22, to: latestSchemaVersion() });
    await db.query(`INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES
      ('v1', 'r1', 'role', 1, 2, 'u1', '{}'::jsonb), ('v1', 's1', 'settings', 1, 3, 'u1', '{}'::jsonb), ('v1', 'p1', 'mfa_policy', 1, 4, 'u1', '{}'::jsonb)`);
    expect(await db.query('SELECT record_id, kind FROM sync_records ORDER BY seq')).toEqual([
      { record_id: 'g1', kind: 'group' }, { record_id: 'r1', kind: 'role' }, { record_id: 's1', kind: 'settings' }, { record_id: 'p1', kind: 'mfa_policy' },
    ]);
    await expect(db.query("INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES ('v1', 'x1', 'secret', 1, 5, 'u1', '{}'::jsonb)")).rejects.toThrow(/sync_records_kind_check/);
  });

  it('upgrades schema 23 in place: every record kept, and each part of a snapshot indexed on its own (events; everything else) in sequence order', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 23))).toEqual({ from: 0, to: 23 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 3, 'u1', 1)");
    await db.query(`INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES
      ('v1', 'e1', 'event', 1, 1, 'u1', '{"a":1}'::jsonb), ('v1', 'k1', 'entry', 1, 2, 'u1', '{"b":2}'::jsonb), ('v1', 'r1', 'role', 1, 3, 'u1', '{}'::jsonb)`);
    expect(await migrate(db)).toEqual({ from: 23, to: latestSchemaVersion() });
    expect(await db.query('SELECT record_id, kind, seq::int AS seq, body::text AS body FROM sync_records ORDER BY seq')).toEqual([
      { record_id: 'e1', kind: 'event', seq: 1, body: '{"a": 1}' }, { record_id: 'k1', kind: 'entry', seq: 2, body: '{"b": 2}' }, { record_id: 'r1', kind: 'role', seq: 3, body: '{}' },
    ]);
    const indexes = await db.query("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sync_records' AND indexname LIKE 'sync_records%by_seq' ORDER BY indexname");
    expect(indexes.map((row) => text(row, 'indexname'))).toEqual(['sync_records_by_seq', 'sync_records_events_by_seq', 'sync_records_state_by_seq']);
    expect(text(indexes[1] ?? {}, 'indexdef')).toMatch(/\(vault_id, seq\) WHERE \(kind = 'event'::text\)$/);
    expect(text(indexes[2] ?? {}, 'indexdef')).toMatch(/\(vault_id, seq\) WHERE \(kind <> 'event'::text\)$/);
  });

  it('upgrades schema 26 in place: a note of an entry that left a group is given the entry\'s stored record when that is in another group, and nothing else', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 26))).toEqual({ from: 0, to: 26 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 3, 'u1', 1)");
    // k1 left g1 for g2; k2 left g1 and is back in it; k3's record is gone (nothing to keep).
    await db.query(`INSERT INTO sync_records (vault_id, record_id, kind, revision, seq, pushed_by, body) VALUES
      ('v1', 'k1', 'entry', 2, 2, 'u1', '{"group": "g2"}'::jsonb), ('v1', 'k2', 'entry', 3, 3, 'u1', '{"group": "g1"}'::jsonb)`);
    await db.query("INSERT INTO sync_left_reach (vault_id, record_id, from_group, seq) VALUES ('v1', 'k1', 'g1', 2), ('v1', 'k2', 'g1', 1), ('v1', 'k3', 'g1', 1)");
    expect(await migrate(db)).toEqual({ from: 26, to: latestSchemaVersion() });
    expect(await db.query('SELECT record_id, body::text AS body FROM sync_left_reach ORDER BY record_id')).toEqual([
      { record_id: 'k1', body: '{"group": "g2"}' }, { record_id: 'k2', body: null }, { record_id: 'k3', body: null },
    ]);
  });

  it('upgrades schema 29 in place: each member holding a group\'s secret key now is noted as holding it at their version, and a rerun changes nothing', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 29))).toEqual({ from: 0, to: 29 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 3, 'u1', 1)");
    await db.query("INSERT INTO sync_people (vault_id, vault_user, account_id, role) VALUES ('v1', 'a', 'u1', 'owner'), ('v1', 'b', NULL, 'technician'), ('v1', 'c', NULL, 'auditor')");
    await db.query("INSERT INTO sync_groups (vault_id, group_id, key_version) VALUES ('v1', 'g1', 3)");
    // a holds both keys, b the list key alone, c a wrap from before the pair (the list key).
    await db.query(`INSERT INTO sync_members (vault_id, group_id, vault_user, key_version, is_lead, wrapped) VALUES
      ('v1', 'g1', 'a', 3, true, '["l","s"]'), ('v1', 'g1', 'b', 3, false, '["l",null]'), ('v1', 'g1', 'c', 3, false, 'l')`);
    expect(await migrate(db)).toEqual({ from: 29, to: latestSchemaVersion() });
    const held = 'SELECT vault_id, group_id, vault_user, key_version FROM sync_secret_key_held ORDER BY vault_user';
    expect(await db.query(held)).toEqual([{ vault_id: 'v1', group_id: 'g1', vault_user: 'a', key_version: 3 }]);
    await db.query('UPDATE crewvault_schema SET version = 29');
    expect(await migrate(db)).toEqual({ from: 29, to: latestSchemaVersion() });
    expect(await db.query(held)).toEqual([{ vault_id: 'v1', group_id: 'g1', vault_user: 'a', key_version: 3 }]);
  });

  it('upgrades schema 30 in place: each move kept for a member who lost the entry is kept as a move of it, a note with no record is not', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 30))).toEqual({ from: 0, to: 30 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 3, 'u1', 1)");
    await db.query(`INSERT INTO sync_left_reach (vault_id, record_id, from_group, seq, body) VALUES
      ('v1', 'k1', 'g1', 2, '{"group": "g2"}'::jsonb), ('v1', 'k2', 'g1', 1, NULL)`);
    expect(await migrate(db)).toEqual({ from: 30, to: latestSchemaVersion() });
    const moves = 'SELECT vault_id, record_id, seq::int AS seq, from_group, body::text AS body FROM sync_entry_moves ORDER BY record_id';
    expect(await db.query(moves)).toEqual([{ vault_id: 'v1', record_id: 'k1', seq: 2, from_group: 'g1', body: '{"group": "g2"}' }]);
  });

  it('upgrades schema 31 in place: each group holds no claim (schema 32\'s columns on its row), one is read with the group at its version only, and a rerun keeps it', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 31))).toEqual({ from: 0, to: 31 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 3, 'u1', 1)");
    await db.query("INSERT INTO sync_groups (vault_id, group_id, key_version) VALUES ('v1', 'g1', 3), ('v1', 'g2', 1)");
    expect(await migrate(db)).toEqual({ from: 31, to: latestSchemaVersion() });
    const claims = async (): Promise<Array<[string, unknown]>> => [...(await groupsWithMembership(db, 'v1', 'a', ['g1', 'g2'])).values()].map((g) => [g.groupId, g.claim]);
    expect(await claims()).toEqual([['g1', null], ['g2', null]]);
    // A claim at g1's version is read; one made at a version g2 has moved past is not.
    await db.query("UPDATE sync_groups SET claim_user = 'b', claim_version = key_version, claim_until = 5000 WHERE group_id = 'g1'");
    await db.query("UPDATE sync_groups SET claim_user = 'b', claim_version = 0, claim_until = 5000 WHERE group_id = 'g2'");
    expect(await claims()).toEqual([['g1', { user: 'b', until: 5000 }], ['g2', null]]);
    await db.query('UPDATE crewvault_schema SET version = 31');
    expect(await migrate(db)).toEqual({ from: 31, to: latestSchemaVersion() });
    expect(await claims()).toEqual([['g1', { user: 'b', until: 5000 }], ['g2', null]]);
  });

  it('upgrades schema 32 in place: each seal is kept with no digest (asked of, it is needed once), and a rerun keeps it', async () => {
    const db = await databases.open(kind);
    expect(await migrate(db, MIGRATIONS.slice(0, 32))).toEqual({ from: 0, to: 32 });
    await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
    await db.query("INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ('v1', 3, 'u1', 1)");
    await db.query("INSERT INTO server_code_keys (vault_id, entry_id, group_id, key_version, sealed, sealed_by, sealed_at, code_key) VALUES ('v1', 'e1', 'g1', 2, 'sealed', 'u1', 1, 'k1')");
    expect(await migrate(db)).toEqual({ from: 32, to: latestSchemaVersion() });
    const held = async (): Promise<unknown> => Object.fromEntries(await sealDigestsOf(db, 'v1', ['e1']));
    expect(await held()).toEqual({ e1: { group: 'g1', codeKey: 'k1', digest: null } });
    await db.query("UPDATE server_code_keys SET digest = 'keyed' WHERE entry_id = 'e1'");
    await db.query('UPDATE crewvault_schema SET version = 32');
    expect(await migrate(db)).toEqual({ from: 32, to: latestSchemaVersion() });
    expect(await held()).toEqual({ e1: { group: 'g1', codeKey: 'k1', digest: 'keyed' } });
  });

  it('lets two servers start at once: each migration runs exactly once', async () => {
    if (kind === 'pglite') return; // one process owns a PGlite folder; the race is PostgreSQL's
    const url = await databases.postgresUrl();
    const { openPostgres } = await import('../../server/store/db');
    const a = openPostgres(url);
    const b = openPostgres(url);
    try {
      const results = await Promise.all([migrate(a), migrate(b)]);
      expect(results.map((r) => r.from).sort()).toEqual([0, latestSchemaVersion()]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
