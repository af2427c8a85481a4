/**
 * A new desktop's first sync from the server (server/sync/snapshot.ts), over real HTTP on
 * PostgreSQL and on PGlite: the snapshot is each object's newest record once, audit events apart,
 * filtered as a pull is (a technician of group H gets nothing of G, a member of G everything of
 * it); its end is fixed by its first page, and records written while it is taken (a new entry,
 * an entry already in it edited, one not yet handed edited) come in the pull from that end, so
 * the snapshot and the pull after it hold the vault's state exactly, nothing lost or twice.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerRouteOutput } from '../../shared/api/server-contract';
import type { EventRecord, ReplicaRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, memberRecord, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

function event(actor: string): EventRecord {
  return {
    kind: 'event', id: randomUUID(), at: 1, actor, action: 'entry.edit', subject: null, entry: null, customer: null, group: null,
    sealedDetail: null, device: b64('device'), devicePrev: null, signerKey: actor, signature: b64('signature'),
  };
}

type Page = ServerRouteOutput<'syncSnapshot'>;

/** Every page of one part, `limit` records a page; `between` runs after the first page. */
async function snapshotOf(person: Person, vault: string, part: 'state' | 'events', limit: number, between?: () => Promise<void>, upTo?: number): Promise<{ pages: Page[]; records: ReplicaRecord[]; upTo: number }> {
  const pages: Page[] = [];
  let after = 0;
  let end = upTo;
  for (;;) {
    const page = await person.client.ok('syncSnapshot', { vault, part, after, limit, ...(end === undefined ? {} : { upTo: end }) });
    pages.push(page);
    end = page.upTo;
    if (pages.length === 1) await between?.();
    after = page.after;
    if (!page.more) break;
  }
  return { pages, records: pages.flatMap((p) => p.records.map((r) => r.record)), upTo: end ?? 0 };
}

describe.each(DATABASE_KINDS)('a first sync\'s snapshot on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);
  afterAll(async () => {
    await server.close();
  });

  it('hands each object\'s newest record once, events apart, and only what a pull would', async () => {
    const w = twoGroupVault();
    const { vault, u, g, h } = w;
    const inG = [entryIn(u.owner, g), entryIn(u.owner, g)];
    const inH = entryIn(u.owner, h);
    const events = [event(u.owner), event(u.owner)];
    await owner.client.ok('syncPush', pushOf(vault, [...twoGroupRecords(w, { owner, tech, other }), ...inG, inH, ...events]));
    // The first entry of G edited: only its revision 2 is in the snapshot.
    const edited = { ...entryIn(u.owner, g, { id: inG[0]?.id ?? '', revision: 2, base: 1 }), customer: inG[0]?.customer ?? '' };
    const editedPush = pushOf(vault, [edited]);
    await owner.client.ok('syncPush', editedPush);

    const ownerState = await snapshotOf(owner, vault, 'state', 3);
    expect(ownerState.pages.length).toBeGreaterThan(2);
    expect(ownerState.records.filter((r) => r.kind === 'event')).toEqual([]);
    expect(ownerState.records.filter((r) => r.kind === 'entry').map((r) => [r.id, r.kind === 'entry' ? r.revision : 0]).sort())
      .toEqual([[edited.id, 2], [inG[1]?.id, 1], [inH.id, 1]].sort());
    expect(new Set(ownerState.records.map((r) => r.id)).size).toBe(ownerState.records.length);
    // As pushed (signed: people.ts pushOf), field for field (the stored body handed on unparsed).
    expect(ownerState.records.find((r) => r.id === edited.id)).toEqual(editedPush.batch.records.find((r) => r.id === edited.id));
    const ownerEvents = await snapshotOf(owner, vault, 'events', 1, undefined, ownerState.upTo);
    expect(ownerEvents.records.map((r) => r.id).sort()).toEqual(events.map((e) => e.id).sort());

    // The technician of H: nothing of G (neither its entries nor the membership of someone else in it).
    const otherState = await snapshotOf(other, vault, 'state', 2);
    const theirs = otherState.records.filter((r) => (r.kind === 'entry' || r.kind === 'member') && r.group === g);
    expect(theirs).toEqual([]);
    expect(otherState.records.filter((r) => r.kind === 'entry').map((r) => r.id)).toEqual([inH.id]);
    for (const e of inG) expect(JSON.stringify(otherState.pages)).not.toContain(e.id);
    // ... and what a pull from 0 hands them is the same set of objects, events aside.
    const pulled = await other.client.ok('syncPull', { vault, since: 0 });
    expect(otherState.records.map((r) => r.id).sort()).toEqual(pulled.records.map((r) => r.record).filter((r) => r.kind !== 'event').map((r) => r.id).sort());
    // The technician of G holds G's entries, not H's.
    const techState = await snapshotOf(tech, vault, 'state', 50);
    expect(techState.records.filter((r) => r.kind === 'entry').map((r) => r.id).sort()).toEqual([edited.id, inG[1]?.id].sort());
  });

  it('loses nothing written while it is taken: the pull from its end brings it', async () => {
    const w = twoGroupVault();
    const { vault, u, g } = w;
    const entries = Array.from({ length: 6 }, () => entryIn(u.owner, g));
    await owner.client.ok('syncPush', pushOf(vault, [...twoGroupRecords(w, { owner, tech, other }), ...entries]));
    const first = entries[0];
    const last = entries.at(-1);
    if (!first || !last) throw new Error('no entries');
    const added = entryIn(u.owner, g);
    const state = await snapshotOf(owner, vault, 'state', 2, async () => {
      // After the first page: an entry it handed edited, one it has not handed yet edited, and a new one.
      await owner.client.ok('syncPush', pushOf(vault, [
        { ...entryIn(u.owner, g, { id: first.id, revision: 2, base: 1 }), customer: first.customer },
        { ...entryIn(u.owner, g, { id: last.id, revision: 2, base: 1 }), customer: last.customer },
        added,
        memberRecord(u.owner, { group: g, user: u.other, keyVersion: 1 }),
      ]));
    });
    const after = await owner.client.ok('syncPull', { vault, since: state.upTo });
    // Snapshot, then the pull from its end, each record in its turn: the vault as stored now, each object at its newest.
    const held = new Map<string, ReplicaRecord>();
    for (const r of [...state.records, ...after.records.map((p) => p.record)]) held.set(r.id, r);
    const now = await owner.client.ok('syncPull', { vault, since: 0 });
    expect([...held.values()].sort((a, b) => a.id.localeCompare(b.id))).toEqual(now.records.map((r) => r.record).sort((a, b) => a.id.localeCompare(b.id)));
    const revisionOf = (id: string): number | undefined => {
      const r = held.get(id);
      return r?.kind === 'entry' ? r.revision : undefined;
    };
    expect([revisionOf(first.id), revisionOf(last.id), revisionOf(added.id)]).toEqual([2, 2, 1]);
    // The snapshot itself stayed where its first page found the vault: the entry not yet handed was not in it at its old revision.
    expect(state.records.some((r) => r.id === last.id)).toBe(false);
    expect(state.records.some((r) => r.id === added.id)).toBe(false);
  });

  it('refuses an end past the vault\'s sequence, and someone of no vault', async () => {
    const w = twoGroupVault();
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    const page = await owner.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: 0 });
    expect(await owner.client.call('syncSnapshot', { vault: w.vault, part: 'state', after: 0, upTo: page.upTo + 1 })).toMatchObject({ ok: false, error: { code: 'HISTORY_CHANGED' } });
    const stranger = twoGroupVault();
    // A vault of the owner's alone: the technician is nobody there.
    await owner.client.ok('syncPush', pushOf(stranger.vault, twoGroupRecords(stranger, { owner, tech: owner, other: owner }).slice(0, 1)));
    expect(await tech.client.call('syncSnapshot', { vault: stranger.vault, part: 'state', after: 0 })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });
});
