/**
 * An owner's check of a team vault's whole audit history as the server holds it
 * (electron/team/history-verify.ts), against a real server on PostgreSQL and PGlite: events of
 * two desktops pushed with real signatures verify in the server's order; an event edited in the
 * server's database, two events of one device swapped in the server's order, or one removed from
 * the middle of a device's chain are each caught, naming the sequence.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../shared/sync/records';
import { pullHistory, verifyServerHistory, type HistoryCheck, type Puller, type TrustedKey } from '../../electron/team/history-verify';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { pushOf, serverWithPeople, twoGroupRecords, twoGroupVault, type TwoGroupVault } from './people';
import { signerOf } from './signers';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

function eventBy(actor: string, device: string, action = 'entry.edit'): EventRecord {
  return {
    kind: 'event', id: randomUUID(), at: 1, actor, action, subject: null, entry: null, customer: null, group: null,
    sealedDetail: b64('sealed'), device, devicePrev: null, signerKey: actor, signature: null,
  };
}

describe.each(DATABASE_KINDS)('the whole history checked from the server, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);

  const puller = (): Puller => ({ call: (name, input) => owner.client.ok(name, input) });
  /** The keys the owner's desktop holds in force (its vault file): a key that introduces itself does not travel through the server. */
  const held = (w: TwoGroupVault): Map<string, TrustedKey> => new Map([w.u.owner, w.u.tech, w.u.other].map((user) => [signerOf(user).keyId, { user, publicKey: signerOf(user).publicKey }]));
  async function check(w: TwoGroupVault): Promise<HistoryCheck> {
    return verifyServerHistory(w.vault, await pullHistory(puller(), w.vault), held(w));
  }

  /** A vault with three events of tech's desktop and two of other's, interleaved: returns it and the events' ids in push order. */
  async function history(): Promise<{ w: TwoGroupVault; techDevice: string }> {
    const w = twoGroupVault();
    const techDevice = b64(`tech ${randomUUID()}`);
    const otherDevice = b64(`other ${randomUUID()}`);
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    await tech.client.ok('syncPush', pushOf(w.vault, [eventBy(w.u.tech, techDevice), eventBy(w.u.tech, techDevice)]));
    await other.client.ok('syncPush', pushOf(w.vault, [eventBy(w.u.other, otherDevice)]));
    await tech.client.ok('syncPush', pushOf(w.vault, [eventBy(w.u.tech, techDevice, 'entry.reveal')]));
    await other.client.ok('syncPush', pushOf(w.vault, [eventBy(w.u.other, otherDevice)]));
    return { w, techDevice };
  }

  async function eventSeqs(vault: string, device: string): Promise<number[]> {
    const rows = await server.db.query("SELECT seq::int AS seq FROM sync_records WHERE vault_id = $1 AND kind = 'event' AND body->>'device' = $2 ORDER BY seq", [vault, device]);
    return rows.map((row) => Number(row.seq));
  }

  it('verifies every event in the server\'s order, and catches one edited in the server\'s database', async () => {
    const { w, techDevice } = await history();
    expect(await check(w)).toEqual({ ok: true, events: 5, devices: 2, redacted: 0, mayBeWithheld: [] });
    // Without the desktop's keys, nothing vouches for the signers' first keys: not verified.
    expect(verifyServerHistory(w.vault, await pullHistory(puller(), w.vault))).toMatchObject({ ok: false });
    const [, second] = await eventSeqs(w.vault, techDevice);
    await server.db.query("UPDATE sync_records SET body = jsonb_set(body, '{action}', '\"entry.delete\"') WHERE vault_id = $1 AND seq = $2", [w.vault, second]);
    expect(await check(w)).toMatchObject({ ok: false, seq: second, reason: expect.stringMatching(/changed after its author signed it/) as unknown });
  });

  it('catches two events of one device swapped in the server\'s order, and one removed from the middle of its chain', async () => {
    const swapped = await history();
    const [first, second] = await eventSeqs(swapped.w.vault, swapped.techDevice);
    for (const [from, to] of [[first, -1], [second, first], [-1, second]]) await server.db.query('UPDATE sync_records SET seq = $3 WHERE vault_id = $1 AND seq = $2', [swapped.w.vault, from, to]);
    expect(await check(swapped.w)).toMatchObject({ ok: false, seq: first, reason: expect.stringMatching(/does not follow/) as unknown });
    const dropped = await history();
    const [, middle, last] = await eventSeqs(dropped.w.vault, dropped.techDevice);
    await server.db.query('DELETE FROM sync_records WHERE vault_id = $1 AND seq = $2', [dropped.w.vault, middle]);
    expect(await check(dropped.w)).toMatchObject({ ok: false, seq: last, reason: expect.stringMatching(/does not follow/) as unknown });
  });
});
