/**
 * A key change's hold ends when its claimant is disabled (hostile review rev52; docs/SYNC.md "A key change held off by
 * writes"): tech, a lead of G, pushes a rotation the server refuses (an entry of G stored after the sequence his push
 * says he pulled), so G is held for him; the owner then disables him by a user record alone (a desktop's disabling also
 * rotates his groups, which ends the hold by itself: test/integration/rotation-claim-cut-off.test.ts). Before, the
 * owner's own entry into G was refused BUSY until the hold ran out; now the disabling ends it (applyPeople endClaims).
 * Real server over HTTP, real Ed25519, PostgreSQL and PGlite (test/server/support.ts).
 * Must never: pass without the hold shown first (the owner's write refused BUSY while tech holds G).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, twoGroupVaultPushed, userRecord } from './people';
import type { Person } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('a key change held by a lead the owner then disables, on %s', (kind) => {
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
  }, 120_000);

  it('the owner\'s entry into the group lands once the lead is disabled', async () => {
    const w = await twoGroupVaultPushed({ owner, tech, other });
    // tech made a team lead, and a lead of G.
    await owner.client.ok('syncPush', pushOf(w.vault, [
      userRecord(w.u.owner, { id: w.u.tech, role: 'team_lead', account: tech.user.id, revision: 2 }),
      memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 1, lead: true, revision: 2 }),
    ]));
    // His rotation of G, saying he pulled nothing: his own entry there stored after that is left under the old key. Refused, G held for him.
    const rotation = pushOf(w.vault, [groupRecord(w.u.tech, { id: w.g, keyVersion: 2 }), memberRecord(w.u.tech, { group: w.g, user: w.u.tech, keyVersion: 2, lead: true, revision: 3 })]);
    const refused = await tech.client.ok('syncPush', { ...rotation, pulled: 0 });
    expect(refused.accepted).toBe(0);
    expect(refused.conflicts.length).toBeGreaterThan(0);
    const ownerWrites = async (): Promise<string> => {
      const reply = await owner.client.call('syncPush', pushOf(w.vault, [entryIn(w.u.owner, w.g)]));
      return reply.ok ? `accepted ${reply.value.accepted}` : reply.error.code;
    };
    expect(await ownerWrites()).toBe('BUSY');
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: w.u.tech, role: 'team_lead', account: tech.user.id, revision: 3, disabled: true })]));
    expect(await ownerWrites()).toBe('accepted 1');
  });
});
