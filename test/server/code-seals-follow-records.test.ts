/**
 * Review D3 (server-computed codes): the server keeps an entry's OTP key sealed to its code key only
 * while the entry is live in a group whose codes it computes (server/store/code-seals.ts). Before,
 * the seal stayed after the entry moved to another group, after it was deleted, and a deleted
 * group kept its setting. Each change here goes through a real signed push over loopback HTTP
 * (server/sync/records.ts storePush, in a batch's transaction: store/records-in-line.ts) on
 * PostgreSQL and on PGlite; afterwards the server holds no seal for the entry and asking for its
 * code gets the stable refusal. An entry changed in its own group keeps its seal and its code.
 * Seals an older server left (written here straight to the store, as it did) go with schema 28.
 * Must never print a key or a code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeSecret } from '../../shared/otp';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { int, text } from '../../server/store/db';
import { latestSchemaVersion, migrate } from '../../server/store/migrate';
import { putGroup } from '../../server/store/membership';
import { putRecord } from '../../server/store/sync';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, seqOf, serverWithPeople, twoGroupVaultCodesOn, type TwoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('sealed OTP keys follow their entries and groups on %s (review D3)', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let w: TwoGroupVault;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
    // G computes codes from here on (the owner's record says so).
    w = await twoGroupVaultCodesOn({ owner, tech, other });
  }, 120_000);

  /** A new entry of tech's in `group` (G unless named), its TOTP key sealed for the server by tech. */
  async function sealedEntry(group = w.g): Promise<string> {
    const entry = entryIn(w.u.tech, group);
    await tech.client.ok('syncPush', pushOf(w.vault, [entry]));
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    const params = { kind: 'totp' as const, secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1' as const, digits: 6, period: 30, counter: 0 };
    const place = { entry: entry.id, group, keyVersion: 1 };
    expect(await tech.client.ok('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', ...place, sealed: sealCodeKeyForServer(key, { vault: w.vault, ...place }, params) }] })).toMatchObject({ stored: 1 });
    expect((await owner.client.ok('codes', { vault: w.vault, entry: entry.id })).code).toMatch(/^\d{6}$/);
    return entry.id;
  }

  /** A new group set to server codes, tech a member of it. */
  async function newServerCodesGroup(k: string): Promise<void> {
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: k, keyVersion: 1, serverCodes: true }), memberRecord(w.u.owner, { group: k, user: w.u.tech, keyVersion: 1 })]));
  }

  async function sealsOf(entry: string): Promise<number> {
    const [row] = await server.db.query('SELECT count(*)::int AS n FROM server_code_keys WHERE vault_id = $1 AND entry_id = $2', [w.vault, entry]);
    return int(row ?? {}, 'n');
  }

  async function settingHeld(group: string): Promise<boolean> {
    return (await server.db.query('SELECT 1 FROM server_code_groups WHERE vault_id = $1 AND group_id = $2', [w.vault, group])).length === 1;
  }

  async function removedEvents(): Promise<unknown[]> {
    const rows = await server.db.query("SELECT detail FROM server_audit WHERE kind = 'codes.key-removed' ORDER BY seq");
    return rows.map((row) => JSON.parse(text(row, 'detail')) as unknown);
  }

  it('keeps the seal of an entry changed in its own group, and its code', async () => {
    const entry = await sealedEntry();
    await tech.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.tech, w.g, { id: entry, revision: 2 })]));
    expect(await sealsOf(entry)).toBe(1);
    expect((await owner.client.ok('codes', { vault: w.vault, entry })).code).toMatch(/^\d{6}$/);
  });

  it('drops the seal of an entry moved to another group in the push that moves it, audited', async () => {
    const entry = await sealedEntry();
    const kept = await sealedEntry();
    await owner.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.owner, w.h, { id: entry, revision: 2 })]));
    expect(await sealsOf(entry)).toBe(0);
    expect(await sealsOf(kept)).toBe(1);
    expect(await owner.client.fails('codes', { vault: w.vault, entry })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await removedEvents()).toContainEqual({ vault: w.vault, entry });
    // Moved back, it has no key on the server until a key holder's desktop seals it again.
    await owner.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.owner, w.g, { id: entry, revision: 3 })]));
    expect(await owner.client.fails('codes', { vault: w.vault, entry })).toMatchObject({ code: 'NOT_FOUND' });
    expect((await owner.client.ok('codes', { vault: w.vault, entry: kept })).code).toMatch(/^\d{6}$/);
  });

  it('drops the seal of an entry deleted (its tombstone pushed)', async () => {
    const entry = await sealedEntry();
    await tech.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.tech, w.g, { id: entry, revision: 2, deleted: true })]));
    expect(await sealsOf(entry)).toBe(0);
    // A deleted entry is answered as one of a group the asker does not hold.
    expect(await owner.client.fails('codes', { vault: w.vault, entry })).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('drops a deleted group\'s setting and every seal of it with the push that deletes it', async () => {
    const k = randomUUID();
    await newServerCodesGroup(k);
    const entry = await sealedEntry(k);
    await owner.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.owner, k, { id: entry, revision: 2, deleted: true }), groupRecord(w.u.owner, { id: k, keyVersion: 1, revision: 2, deleted: true, serverCodes: true })]));
    expect(await sealsOf(entry)).toBe(0);
    expect(await settingHeld(k)).toBe(false);
    expect(await owner.client.fails('codes', { vault: w.vault, entry })).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('drops every seal of a group turned off, with its setting', async () => {
    const k = randomUUID();
    await newServerCodesGroup(k);
    const entry = await sealedEntry(k);
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: k, keyVersion: 1, revision: 2, serverCodes: false })]));
    expect(await sealsOf(entry)).toBe(0);
    expect(await settingHeld(k)).toBe(false);
    expect(await owner.client.fails('codes', { vault: w.vault, entry })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await removedEvents()).toContainEqual({ vault: w.vault, group: k, keys: 1 });
  });

  it('drops with schema 28 the seals an older server left: entries moved or deleted, a deleted group\'s, and its setting', async () => {
    const moved = await sealedEntry();
    const deleted = await sealedEntry();
    const kept = await sealedEntry();
    const k = randomUUID();
    await newServerCodesGroup(k);
    const inK = await sealedEntry(k);
    // What an older server did: the records stored (straight to the store, as its push did), the seals left.
    let seq = await seqOf(server, w.vault);
    await server.db.transaction(async (tx) => {
      for (const record of [entryIn(w.u.owner, w.h, { id: moved, revision: 2 }), entryIn(w.u.tech, w.g, { id: deleted, revision: 2, deleted: true }), entryIn(w.u.owner, k, { id: inK, revision: 2, deleted: true })]) {
        seq += 1;
        await putRecord(tx, w.vault, { id: record.id, kind: 'entry', revision: record.revision, seq, body: JSON.stringify(record) }, owner.user.id);
      }
      await putGroup(tx, w.vault, { groupId: k, keyVersion: 1, deleted: true });
      await tx.query('UPDATE sync_vaults SET seq = $2 WHERE vault_id = $1', [w.vault, seq]);
    });
    expect([await sealsOf(moved), await sealsOf(deleted), await sealsOf(inK), await settingHeld(k)]).toEqual([1, 1, 1, true]);
    // The database as an older server left it, then this server's migrations.
    await server.db.query('UPDATE crewvault_schema SET version = 27 WHERE id = 1');
    expect(await migrate(server.db)).toEqual({ from: 27, to: latestSchemaVersion() });
    expect([await sealsOf(moved), await sealsOf(deleted), await sealsOf(inK), await settingHeld(k)]).toEqual([0, 0, 0, false]);
    expect(await sealsOf(kept)).toBe(1);
    expect(await settingHeld(w.g)).toBe(true);
    expect(await owner.client.fails('codes', { vault: w.vault, entry: moved })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await owner.client.fails('codes', { vault: w.vault, entry: deleted })).toMatchObject({ code: 'FORBIDDEN' });
    expect((await owner.client.ok('codes', { vault: w.vault, entry: kept })).code).toMatch(/^\d{6}$/);
  });
});
