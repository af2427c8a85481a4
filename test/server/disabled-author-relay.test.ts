/**
 * A disabled author's events relayed by another member (review round twelve (b), hole 3, on the
 * server; the reviewer's test kept). After a user is disabled, any member could push new events
 * signed with the disabled user's key, continuing their device's chain and dated whenever the
 * signer liked; desktops take an event dated before the disabling (electron/vault/event-author.ts),
 * so a disabled person and any one member wrote "history from before the disabling" into every
 * desktop's log. server/sync/verify.ts now refuses any event whose author is disabled as the push
 * arrives, whoever pushes it (FORBIDDEN): the server is the one place that sees the order. An event
 * the person wrote offline and never pushed is lost, as their own push of it was refused already.
 * FAILED on 52469c8 (`accepted: 1`). Real server over HTTP, real Ed25519, PostgreSQL and PGlite
 * (test/server/support.ts).
 * Must never: accept the relay, or pass without the disabled person's own push refused first.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { eventBy, pushOf, serverWithPeople, twoGroupVaultPushed, userRecord } from './people';
import { linkOf, signEvent, signerOf } from './signers';
import type { Person } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

describe.each(DATABASE_KINDS)('a disabled author\'s events relayed by another member, on %s', (kind) => {
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);

  it('a member relaying events a disabled user signed after the disabling (backdated) is refused', async () => {
    const w = await twoGroupVaultPushed({ owner, tech, other });
    const device = b64(`device ${randomUUID()}`);
    const otherKey = signerOf(w.u.other);
    // other's own event, pushed while enabled.
    const e1 = signEvent({ ...eventBy(w.u.other, device, null), at: 1_000 }, otherKey, w.vault);
    expect(await other.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [e1] } })).toMatchObject({ accepted: 1 });
    // The owner disables other; other's own push is refused from now on.
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: w.u.other, role: 'technician', account: other.user.id, revision: 2, disabled: true })]));
    const e2 = signEvent({ ...eventBy(w.u.other, device, linkOf(e1.signature ?? '')), at: 900 }, otherKey, w.vault);
    const own = await other.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [e2] } });
    expect(own.ok ? 'taken' : own.error.code).toBe('FORBIDDEN');
    // tech relays it (dated before other's own earlier event, let alone the disabling): SAFE = refused.
    const relayed = await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [e2] } });
    expect(relayed.ok ? 'taken' : relayed.error.code, JSON.stringify(relayed)).toBe('FORBIDDEN');
  });
});
