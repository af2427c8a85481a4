/**
 * A key change held off by a manager changing memberships (hostile review rev52; docs/SYNC.md "A key change held off by
 * writes"): the owner rotates G while tech, a lead of G, removes a member or grants one again between each of the owner's
 * pulls and pushes. The rotation is refused each time (membersRevokedUnseen: a re-wrap of a member removed after its
 * pull), and before, that refusal held nothing: tech's next membership change went in, and the rotation met another,
 * for as long as he kept at it, G under the key the members it meant to cut off held. Now such a refusal holds G as an
 * entry's does, and another person's membership change there is refused BUSY meanwhile (but the claimant's own
 * removal or lead: whoever may cut him off still does, rotation-claim-cut-off.test.ts).
 * Real server over HTTP, real Ed25519, PostgreSQL and PGlite (test/server/support.ts).
 * Must never: sleep, or pass without the owner's rotation refused first.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { groupRecord, memberRecord, pushOf, seqOf, serverWithPeople, twoGroupVaultPushed, userRecord } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('a key change while a lead changes memberships of its group, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);

  it('the refused rotation holds the group: the lead\'s next membership change is refused BUSY, and the rotation lands', async () => {
    const w = await twoGroupVaultPushed({ owner, tech, other });
    await owner.client.ok('syncPush', pushOf(w.vault, [
      userRecord(w.u.owner, { id: w.u.tech, role: 'team_lead', account: tech.user.id, revision: 2 }),
      memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 1, lead: true, revision: 2 }),
      memberRecord(w.u.owner, { group: w.g, user: w.u.other, keyVersion: 1, revision: 1 }),
    ]));
    /** tech's change of other's membership of G (at the version G is held at), and the server's answer. */
    const techSets = async (revoked: boolean, revision: number): Promise<string> => {
      const reply = await tech.client.call('syncPush', pushOf(w.vault, [memberRecord(w.u.tech, { group: w.g, user: w.u.other, keyVersion: 1, revoked, revision })]));
      return reply.ok ? `accepted ${reply.value.accepted}` : reply.error.code;
    };
    // The owner pulled with other in G; tech removes other before the owner's push of a rotation re-wrapping other.
    const pulled = await seqOf(server, w.vault);
    expect(await techSets(true, 2)).toBe('accepted 1');
    const rotation = (withOther: boolean, revision: number) => pushOf(w.vault, [
      groupRecord(w.u.owner, { id: w.g, keyVersion: 2 }),
      memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 2, lead: true, revision }),
      ...(withOther ? [memberRecord(w.u.owner, { group: w.g, user: w.u.other, keyVersion: 2, revision })] : []),
    ]);
    const refused = await owner.client.ok('syncPush', { ...rotation(true, 3), pulled });
    expect([refused.accepted, refused.conflicts.map((c) => c.id)]).toEqual([0, [memberRecord(w.u.owner, { group: w.g, user: w.u.other, keyVersion: 1 }).id]]);
    // tech grants other again at once: held off (before: stored, and the owner's next push met it).
    expect(await techSets(false, 3)).toBe('BUSY');
    // The owner's next round (its pull took the removal in) lands; G is past the key other held.
    const landed = await owner.client.ok('syncPush', { ...rotation(false, 3), pulled: await seqOf(server, w.vault) });
    expect([landed.accepted, landed.conflicts]).toEqual([2, []]);
  });
});
