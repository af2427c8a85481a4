/**
 * Review R1 (class: a rotation is judged by what it leaves under the key it replaces). A desktop
 * pulls, rotates a group and pushes; an entry another member added to the group in between, under
 * the old key version, was never re-sealed and stayed readable with the old key for good. The
 * server now refuses a push that moves a group to a new key version while an entry stored after
 * the sequence the pusher's pulls reached (`pulled`, schema 29) is live in the group under an older
 * version and not written by the push: the reply names it as a conflict and nothing is stored. One
 * that re-seals, deletes or moves it out is stored, and so is a rotation split in parts whose
 * pusher had pulled the entry (its re-seal comes in a later part). An entry pushed under the old
 * version once the rotation is stored is refused. Real HTTP on loopback, PGlite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { int } from '../../server/store/db';
import type { EntryRecord, ReplicaRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, seqOf, serverWithPeople, twoGroupVaultPushed, type TwoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

/** `entry` written again by the owner at revision `revision` (base one below), in `group` under `keyVersion`. */
function rewritten(w: TwoGroupVault, entry: EntryRecord, fields: { readonly group?: string; readonly keyVersion: number; readonly deleted?: boolean }): EntryRecord {
  const revision = entry.revision + 1;
  return entryIn(w.u.owner, fields.group ?? entry.group, { id: entry.id, revision, base: entry.revision, keyVersion: fields.keyVersion, ...(fields.deleted === true ? { deleted: true } : {}) });
}

describe.each(DATABASE_KINDS)('a rotation beside an entry added elsewhere under the old key (review R1), on %s', (kind) => {
  /**
   * A two-group vault with tech's entry `seen` in G, the owner's pulls at `pulled`, then tech's
   * entry `stray` in G under version 1, which the owner's desktop has not pulled.
   */
  async function world(): Promise<{ server: TestServer; owner: Person; tech: Person; w: TwoGroupVault; seen: EntryRecord; stray: EntryRecord; pulled: number }> {
    const { server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']);
    const w = await twoGroupVaultPushed({ owner, tech, other });
    const seen = entryIn(w.u.tech, w.g);
    await tech.client.ok('syncPush', pushOf(w.vault, [seen]));
    const pulled = await seqOf(server, w.vault);
    const stray = entryIn(w.u.tech, w.g);
    await tech.client.ok('syncPush', pushOf(w.vault, [stray]));
    return { server, owner, tech, w, seen, stray, pulled };
  }

  /** The owner's rotation of G to version 2 (tech re-wrapped there). */
  const rotation = (w: TwoGroupVault): ReplicaRecord[] => [
    groupRecord(w.u.owner, { id: w.g, keyVersion: 2 }),
    memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 2 }),
  ];

  async function groupVersion(server: TestServer, w: TwoGroupVault): Promise<number | undefined> {
    const [row] = await server.db.query('SELECT key_version FROM sync_groups WHERE vault_id = $1 AND group_id = $2', [w.vault, w.g]);
    return row === undefined ? undefined : int(row, 'key_version');
  }

  it('is refused while it leaves that entry under the old version, naming it, and stores nothing', async () => {
    const { server, owner, w, seen, stray, pulled } = await world();
    const before = await seqOf(server, w.vault);
    // Every entry the rotating desktop held re-sealed; the one added since it pulled is not.
    const reply = await owner.client.ok('syncPush', { ...pushOf(w.vault, [...rotation(w), rewritten(w, seen, { keyVersion: 2 })]), pulled });
    expect({ accepted: reply.accepted, conflicts: reply.conflicts, seq: await seqOf(server, w.vault), version: await groupVersion(server, w) })
      .toEqual({ accepted: 0, conflicts: [{ id: stray.id, revision: 1 }], seq: before, version: 1 });
    // Split as a desktop splits it: who is who first, the re-seals after. Its first part is refused the same way.
    const first = await owner.client.ok('syncPush', { ...pushOf(w.vault, rotation(w)), pulled });
    expect({ accepted: first.accepted, conflicts: first.conflicts, version: await groupVersion(server, w) }).toEqual({ accepted: 0, conflicts: [{ id: stray.id, revision: 1 }], version: 1 });
  }, 60_000);

  it('is stored when it re-seals, deletes or moves out every live entry left at the old version', async () => {
    for (const last of ['re-sealed', 'deleted', 'moved'] as const) {
      const { server, owner, w, seen, stray, pulled } = await world();
      const strayNow = last === 're-sealed' ? rewritten(w, stray, { keyVersion: 2 }) : last === 'deleted' ? rewritten(w, stray, { keyVersion: 1, deleted: true }) : rewritten(w, stray, { group: w.h, keyVersion: 1 });
      const reply = await owner.client.ok('syncPush', { ...pushOf(w.vault, [...rotation(w), rewritten(w, seen, { keyVersion: 2 }), strayNow]), pulled });
      expect({ last, conflicts: reply.conflicts, accepted: reply.accepted, version: await groupVersion(server, w) }).toEqual({ last, conflicts: [], accepted: 4, version: 2 });
    }
  }, 120_000);

  it('is stored split in parts when its pusher had pulled every such entry: the re-seals come in the next part', async () => {
    const { server, owner, w, seen, stray } = await world();
    const pulled = await seqOf(server, w.vault);
    const first = await owner.client.ok('syncPush', { ...pushOf(w.vault, rotation(w)), pulled });
    const second = await owner.client.ok('syncPush', { ...pushOf(w.vault, [rewritten(w, seen, { keyVersion: 2 }), rewritten(w, stray, { keyVersion: 2 })]), pulled: first.seq });
    expect({ first: first.conflicts, second: second.conflicts, accepted: second.accepted, version: await groupVersion(server, w) }).toEqual({ first: [], second: [], accepted: 2, version: 2 });
  }, 60_000);

  it('once stored, refuses an entry pushed under the old version', async () => {
    const { server, owner, tech, w, seen, stray } = await world();
    const pulled = await seqOf(server, w.vault);
    await owner.client.ok('syncPush', { ...pushOf(w.vault, [...rotation(w), rewritten(w, seen, { keyVersion: 2 }), rewritten(w, stray, { keyVersion: 2 })]), pulled });
    const before = await seqOf(server, w.vault);
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [entryIn(w.u.tech, w.g, { id: randomUUID(), keyVersion: 1 })]))).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect(await seqOf(server, w.vault)).toBe(before);
  }, 60_000);
});
