/**
 * A live record of a group the server holds deleted (plan s39, section 2, T7): a rotation or a rename made on a
 * desktop that had not taken the deletion in. It was judged stale, silently ({accepted: 0, conflicts: []}), and
 * its desktop marked it sent, moving the group's agreed revision past the deletion it pulled next, which it then
 * judged older than its own record: the group stayed there for good. Now, when the deletion was stored after the
 * sequence the pusher's pulls reached (`pulled`, schema 29), the push's conflicts name the group at the deletion's
 * revision and nothing is stored, so the desktop pulls the deletion and takes it over its unsent change. Without
 * `pulled` (a desktop before schema 29), past the deletion, and for a re-sent deletion: stale, as before.
 * Real HTTP on loopback, PGlite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getGroup } from '../../server/store/membership';
import type { ReplicaRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { groupRecord, memberRecord, pushOf, seqOf, serverWithPeople, twoGroupVaultPushed, type TwoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('a live record of a group the server holds deleted, on %s', (kind) => {
  /** A vault with an empty group K (tech a member), `before` the sequence after it, then K deleted by the owner's other desktop at revision 2. */
  async function world(): Promise<{ server: TestServer; owner: Person; w: TwoGroupVault; k: string; before: number; deletion: ReplicaRecord }> {
    const { server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']);
    const w = await twoGroupVaultPushed({ owner, tech, other });
    const k = randomUUID();
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: k, keyVersion: 1 }), memberRecord(w.u.owner, { group: k, user: w.u.tech, keyVersion: 1 })]));
    const before = await seqOf(server, w.vault);
    const deletion = groupRecord(w.u.owner, { id: k, keyVersion: 1, revision: 2, deleted: true });
    expect((await owner.client.ok('syncPush', pushOf(w.vault, [deletion]))).conflicts).toEqual([]);
    return { server, owner, w, k, before, deletion };
  }

  /** A rotation of K to version 2 revoking tech, made where K was not deleted yet. */
  const rotation = (w: TwoGroupVault, k: string): ReplicaRecord[] => [
    groupRecord(w.u.owner, { id: k, keyVersion: 2, revision: 2 }),
    memberRecord(w.u.owner, { group: k, user: w.u.tech, keyVersion: 2, revoked: true, revision: 2 }),
  ];
  /** A rename of K at the version held, made where K was not deleted yet. */
  const rename = (w: TwoGroupVault, k: string): ReplicaRecord[] => [groupRecord(w.u.owner, { id: k, keyVersion: 1, revision: 2 })];

  async function groupHeld(server: TestServer, w: TwoGroupVault, k: string): Promise<{ keyVersion: number; deleted: boolean } | undefined> {
    const group = await getGroup(server.db, w.vault, k);
    return group === undefined ? undefined : { keyVersion: group.keyVersion, deleted: group.deleted };
  }

  it('is a conflict naming the group at the deletion\'s revision when the deletion came after the pusher\'s pull, and nothing is stored', async () => {
    const { server, owner, w, k, before } = await world();
    for (const records of [rotation(w, k), rename(w, k)]) {
      const seq = await seqOf(server, w.vault);
      const reply = await owner.client.ok('syncPush', { ...pushOf(w.vault, records), pulled: before });
      expect({ accepted: reply.accepted, conflicts: reply.conflicts, seq: await seqOf(server, w.vault), held: await groupHeld(server, w, k) })
        .toEqual({ accepted: 0, conflicts: [{ id: k, revision: 2 }], seq, held: { keyVersion: 1, deleted: true } });
    }
  }, 60_000);

  it('is stale, as before, without `pulled`, or from a desktop that pulled the deletion; and a re-sent deletion is stale', async () => {
    const { server, owner, w, k, before, deletion } = await world();
    const after = await seqOf(server, w.vault);
    const pushes: Array<{ readonly records: ReplicaRecord[]; readonly pulled?: number }> = [
      { records: rotation(w, k) }, { records: rename(w, k) }, { records: rotation(w, k), pulled: after }, { records: [deletion], pulled: before },
    ];
    for (const [index, push] of pushes.entries()) {
      const reply = await owner.client.ok('syncPush', { ...pushOf(w.vault, push.records), ...(push.pulled === undefined ? {} : { pulled: push.pulled }) });
      expect({ index, accepted: reply.accepted, conflicts: reply.conflicts, seq: await seqOf(server, w.vault), held: await groupHeld(server, w, k) })
        .toEqual({ index, accepted: 0, conflicts: [], seq: after, held: { keyVersion: 1, deleted: true } });
    }
  }, 60_000);
});
