/**
 * Pushes to one vault taken together in one transaction (server/sync/push-batch.ts), on
 * PostgreSQL and PGlite: real pushes, concurrent, held behind a transaction that holds the
 * vault's row so that those arriving meanwhile form one batch (all waiting in the batcher at once).
 * Each is judged on its own and in arrival order, as if one after another: a conflict and a
 * FORBIDDEN fail nobody else, a revoke is seen by the next push of the batch, the rest are stored,
 * and every reply names its own outcome only. Must never sleep on the clock: it waits on the
 * batcher's own count of waiting pushes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { vaultObjectId, type ReplicaRecord, type SettingsRecord } from '../../shared/sync/records';
import { authenticate } from '../../server/auth/sessions';
import type { ServerContext } from '../../server/context';
import { PushBatcher, type PushReply } from '../../server/sync/push-batch';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { asOneBatch } from './one-batch';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('pushes to one vault at once, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let ctx: ServerContext;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
    ctx = { db: server.db, keys: server.keys, now: server.clock.now, throttle: { perAccount: 10, perAddress: 100 } };
  }, 120_000);

  async function callerOf(person: Person): Promise<Awaited<ReturnType<typeof authenticate>>> {
    return authenticate(ctx, person.client.tokens?.accessToken, person.client.deviceId);
  }

  /**
   * Holds the vault's row in a transaction of its own, hands `first` to the batcher (its
   * transaction waits on that row, or on PGlite's one connection), then each of `rest` in order,
   * each once the batcher counts it waiting: they form the next batch, in that order. Lets go and
   * returns every push's outcome in the order given.
   */
  async function together(batcher: PushBatcher, vault: string, first: () => Promise<PushReply>, rest: ReadonlyArray<() => Promise<PushReply>>): Promise<Array<PushReply | CrewvaultError>> {
    const settle = (p: Promise<PushReply>): Promise<PushReply | CrewvaultError> => p.catch((error: unknown) => {
      if (error instanceof CrewvaultError) return error;
      throw error;
    });
    return Promise.all(await asOneBatch(server.db, batcher, vault, () => settle(first()), rest.map((push) => () => settle(push()))));
  }

  it('judges each push of a batch on its own, in arrival order, and stores the rest in one transaction', async () => {
    const w = twoGroupVault();
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    const held = entryIn(w.u.owner, w.g);
    await owner.client.ok('syncPush', pushOf(w.vault, [held]));
    const [asOwner, asTech] = [await callerOf(owner), await callerOf(tech)];
    const batcher = new PushBatcher(ctx);
    const push = (caller: typeof asOwner, records: ReplicaRecord[]) => () => batcher.take({ auth: caller, batch: pushOf(w.vault, records).batch, source: '127.0.0.1' });
    const stored = { first: entryIn(w.u.owner, w.g), techBefore: entryIn(w.u.tech, w.g), ownerAfter: entryIn(w.u.owner, w.g, { keyVersion: 2 }) };
    const replies = await together(batcher, w.vault, push(asOwner, [stored.first]), [
      // A conflict: the entry held is at revision 1, this push says it is at 5.
      push(asOwner, [entryIn(w.u.owner, w.g, { id: held.id, revision: 6, base: 5 })]),
      // FORBIDDEN: the technician holds G, not H.
      push(asTech, [entryIn(w.u.tech, w.h)]),
      // Stored: the technician still holds G.
      push(asTech, [stored.techBefore]),
      // The owner revokes the technician: G at version 2, his membership revoked.
      push(asOwner, [groupRecord(w.u.owner, { id: w.g, keyVersion: 2 }), memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 1, revoked: true })]),
      // Seen by the very next push of the batch: the technician is out of G.
      push(asTech, [entryIn(w.u.tech, w.g, { keyVersion: 2 })]),
      // Stored, sealed under G's new version.
      push(asOwner, [stored.ownerAfter]),
    ]);
    const [first, conflict, forbidden, techBefore, revoke, techAfter, ownerAfter] = replies;
    expect(first).toMatchObject({ accepted: 1, conflicts: [] });
    // Its own conflict only, nothing of its neighbours'.
    expect(conflict).toEqual({ accepted: 0, seq: expect.any(Number) as number, conflicts: [{ id: held.id, revision: 1 }] });
    expect(forbidden).toBeInstanceOf(CrewvaultError);
    expect((forbidden as CrewvaultError).code).toBe('FORBIDDEN');
    expect(techBefore).toMatchObject({ accepted: 1, conflicts: [] });
    expect(revoke).toMatchObject({ accepted: 2, conflicts: [] });
    expect(techAfter).toBeInstanceOf(CrewvaultError);
    expect((techAfter as CrewvaultError).code).toBe('FORBIDDEN');
    expect(ownerAfter).toMatchObject({ accepted: 1, conflicts: [] });
    // Each stored push's reply names the sequence its own last record took, one after another.
    const seqOf = (r: PushReply | CrewvaultError | undefined): number => (r instanceof CrewvaultError || r === undefined ? Number.NaN : r.seq);
    expect(seqOf(techBefore)).toBe(seqOf(first) + 1);
    expect(seqOf(revoke)).toBe(seqOf(techBefore) + 2);
    expect(seqOf(ownerAfter)).toBe(seqOf(revoke) + 1);
    // What the batch stored: exactly the pushes let through, in order, the vault's sequence at the last.
    const rows = await server.db.query('SELECT record_id, seq FROM sync_records WHERE vault_id = $1 AND seq > $2 ORDER BY seq', [w.vault, seqOf(first)]);
    expect(rows.map((r) => r.record_id)).toEqual([stored.techBefore.id, w.g, expect.any(String), stored.ownerAfter.id]);
    const [vaultRow] = await server.db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [w.vault]);
    expect(Number(vaultRow?.seq)).toBe(seqOf(ownerAfter));
    // The technician is out of G as the revoke said; the conflicting entry is still at revision 1.
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [entryIn(w.u.tech, w.g, { keyVersion: 2 })]))).toMatchObject({ code: 'FORBIDDEN' });
    const pulled = await owner.client.ok('syncPull', { vault: w.vault, since: 0 });
    expect(pulled.records.find((r) => r.record.id === held.id)?.record).toMatchObject({ revision: 1 });
  });

  it('undoes a refused push\'s people records and keeps its neighbours\'', async () => {
    const w = twoGroupVault();
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    const [asOwner, asTech] = [await callerOf(owner), await callerOf(tech)];
    const batcher = new PushBatcher(ctx);
    const push = (caller: typeof asOwner, records: ReplicaRecord[]) => () => batcher.take({ auth: caller, batch: pushOf(w.vault, records).batch, source: '127.0.0.1' });
    const before = entryIn(w.u.owner, w.h);
    const after = entryIn(w.u.owner, w.h);
    const replies = await together(batcher, w.vault, push(asOwner, [before]), [
      // The owner grants other G, then the same push names an entry of a group the server does not
      // hold at a key version: a rotation's member record newer than its group → CONFLICT, the grant undone.
      push(asOwner, [memberRecord(w.u.owner, { group: w.g, user: w.u.other, keyVersion: 1 }), memberRecord(w.u.owner, { group: w.h, user: w.u.tech, keyVersion: 9 })]),
      // The technician, not a manager of H, tries to add himself there: FORBIDDEN.
      push(asTech, [memberRecord(w.u.tech, { group: w.h, user: w.u.tech, keyVersion: 1 })]),
      push(asOwner, [after]),
    ]);
    expect(replies[0]).toMatchObject({ accepted: 1 });
    expect((replies[1] as CrewvaultError).code).toBe('CONFLICT');
    expect((replies[2] as CrewvaultError).code).toBe('FORBIDDEN');
    expect(replies[3]).toMatchObject({ accepted: 1, seq: (replies[0] as PushReply).seq + 1 });
    // other was not granted G: the undone push left nothing behind.
    const members = await server.db.query('SELECT vault_user FROM sync_members WHERE vault_id = $1 AND group_id = $2', [w.vault, w.g]);
    expect(members.map((m) => m.vault_user)).toEqual([w.u.tech]);
  });

  it('lets a creator not bound yet bind itself in a batch after a push of its own that named no author', async () => {
    // A vault moved here by an empty push: its creator (the server's owner) is not bound to any vault user yet.
    const vault = randomBytes(16).toString('hex');
    expect(await owner.client.ok('syncPush', pushOf(vault, []))).toMatchObject({ accepted: 0 });
    expect(await server.db.query('SELECT vault_user FROM sync_people WHERE vault_id = $1', [vault])).toEqual([]);
    const me = randomUUID();
    const settings: SettingsRecord = {
      kind: 'settings', id: vaultObjectId(vault, 'settings', (text) => createHash('sha256').update(text, 'utf8').digest('hex')), revision: 1, base: 0,
      idleLockMinutes: 5, clipboardClearSeconds: 30, trustDeviceDays: 0, author: me, signerKey: me, signature: Buffer.from('signature').toString('base64url'),
    };
    const asOwner = await callerOf(owner);
    const batcher = new PushBatcher(ctx);
    const push = (records: ReplicaRecord[]) => () => batcher.take({ auth: asOwner, batch: pushOf(vault, records).batch, source: '127.0.0.1' });
    // One batch after the first push (which waits on the row alone): a push naming no author binds nothing; the next, alone,
    // would bind the creator to `me` and store its record, and so it does after it.
    const [before, empty, binding] = await together(batcher, vault, push([]), [push([]), push([settings])]);
    expect(before).toMatchObject({ accepted: 0, conflicts: [] });
    expect(empty).toMatchObject({ accepted: 0, conflicts: [] });
    expect(binding).toMatchObject({ accepted: 1, conflicts: [] });
    const people = await server.db.query('SELECT vault_user, account_id, role FROM sync_people WHERE vault_id = $1', [vault]);
    expect(people).toEqual([{ vault_user: me, account_id: owner.user.id, role: 'owner' }]);
  });
  it('binds no creator by a push that meets conflicts, alone or in a batch', async () => {
    const asOwner = await callerOf(owner);
    const batcher = new PushBatcher(ctx);
    const settingsAs = (vault: string, author: string, base: number): SettingsRecord => ({
      kind: 'settings', id: vaultObjectId(vault, 'settings', (text) => createHash('sha256').update(text, 'utf8').digest('hex')), revision: base + 1, base,
      idleLockMinutes: 5, clipboardClearSeconds: 30, trustDeviceDays: 0, author, signerKey: author, signature: Buffer.from('signature').toString('base64url'),
    });
    const push = (vault: string, records: ReplicaRecord[]) => () => batcher.take({ auth: asOwner, batch: pushOf(vault, records).batch, source: '127.0.0.1' });
    const peopleOf = async (vault: string) => server.db.query('SELECT vault_user, account_id, role FROM sync_people WHERE vault_id = $1', [vault]);
    const [me, other] = [randomUUID(), randomUUID()];
    // Alone: a push signed as `me` whose base the server does not hold meets a conflict and binds nobody; a push signed as another binds it.
    const alone = randomBytes(16).toString('hex');
    expect(await owner.client.ok('syncPush', pushOf(alone, []))).toMatchObject({ accepted: 0 });
    expect(await push(alone, [settingsAs(alone, me, 3)])()).toMatchObject({ accepted: 0, conflicts: [{ revision: 0 }] });
    expect(await peopleOf(alone)).toEqual([]);
    expect(await push(alone, [settingsAs(alone, other, 0)])()).toMatchObject({ accepted: 1, conflicts: [] });
    expect(await peopleOf(alone)).toEqual([{ vault_user: other, account_id: owner.user.id, role: 'owner' }]);
    // In one batch after a first push: the same outcomes, the same binding.
    const batched = randomBytes(16).toString('hex');
    expect(await owner.client.ok('syncPush', pushOf(batched, []))).toMatchObject({ accepted: 0 });
    const [before, conflicting, binding] = await together(batcher, batched, push(batched, []), [push(batched, [settingsAs(batched, me, 3)]), push(batched, [settingsAs(batched, other, 0)])]);
    expect(before).toMatchObject({ accepted: 0, conflicts: [] });
    expect(conflicting).toMatchObject({ accepted: 0, conflicts: [{ revision: 0 }] });
    expect(binding).toMatchObject({ accepted: 1, conflicts: [] });
    expect(await peopleOf(batched)).toEqual([{ vault_user: other, account_id: owner.user.id, role: 'owner' }]);
  });
});
