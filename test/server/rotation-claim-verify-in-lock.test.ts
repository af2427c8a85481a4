/**
 * A key change's hold is made only by a push whose signatures still stand in the vault's lock (hostile review rev52,
 * docs/SYNC.md "A key change held off by writes"). A push's signatures are checked before it waits for the vault's row,
 * and again in the lock when what the check read moved meanwhile (verify.ts holdVerified), but a refused push was never
 * checked again: tech, a lead of G, signs his rotation with a key that a second owner certified; while it waits for the
 * vault's row, the owner makes that second owner an admin, whose certificates then count for nothing (keysInForce).
 * His rotation, refused, still held G, and the owner's own entry there was refused BUSY until the hold ran out. Now the
 * refusal that would hold a group is checked again (checkStillVerified): refused whole, nothing held. (Disabling him in
 * the window is refused in the lock already: actingPerson.) PostgreSQL only: the push must wait on a row another
 * transaction holds (held-transaction.ts), which PGlite, one transaction at a time, cannot show.
 * Real server over HTTP, real Ed25519 (test/server/support.ts).
 * Must never: sleep (it polls until the push waits on the row) or pass without the push having waited in the lock.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { putPerson } from '../../server/store/membership';
import { useTestDatabases } from './databases';
import { sentWhileHeld } from './held-transaction';
import { certifiedKeyOf, signedBy, signerOf } from './signers';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, twoGroupVaultPushed, userRecord } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

describe('a key change refused while the key it is signed by leaves force, on postgres', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open('postgres'), ['tech', 'other']));
  }, 120_000);

  it('holds nothing: the push is checked again in the lock and refused whole', async () => {
    const w = await twoGroupVaultPushed({ owner, tech, other });
    await owner.client.ok('syncPush', pushOf(w.vault, [
      userRecord(w.u.owner, { id: w.u.tech, role: 'team_lead', account: tech.user.id, revision: 2 }),
      memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 1, lead: true, revision: 2 }),
      userRecord(w.u.owner, { id: w.u.other, role: 'owner', account: other.user.id, revision: 2 }),
    ]));
    // tech's new key (a password reset), certified by the second owner.
    const resetKey = signerOf(`${w.u.tech} after a reset`);
    const certified = certifiedKeyOf(w.vault, w.u.tech, resetKey, signerOf(w.u.other));
    const ownerWrites = async (): Promise<string> => {
      const reply = await owner.client.call('syncPush', pushOf(w.vault, [entryIn(w.u.owner, w.g)]));
      return reply.ok ? `accepted ${reply.value.accepted}` : reply.error.code;
    };
    // His rotation of G, saying he pulled nothing (his own entry stored after that stays under the old key: refused, held),
    // waits for the vault's row while the owner's transaction disables him.
    const rotation = pushOf(w.vault, [
      certified,
      signedBy(w.vault, groupRecord(w.u.tech, { id: w.g, keyVersion: 2 }), resetKey),
      signedBy(w.vault, memberRecord(w.u.tech, { group: w.g, user: w.u.tech, keyVersion: 2, lead: true, revision: 3 }), resetKey),
    ]);
    let answeredBeforeDisabled = false;
    let answered = false;
    const reply = await sentWhileHeld(
      server.db,
      async (tx) => {
        await tx.query('SELECT vault_id FROM sync_vaults WHERE vault_id = $1 FOR UPDATE', [w.vault]);
      },
      () => tech.client.call('syncPush', { ...rotation, pulled: 0 }).finally(() => {
        answered = true;
      }),
      async (tx) => {
        answeredBeforeDisabled = answered;
        await putPerson(tx, w.vault, { vaultUser: w.u.other, accountId: other.user.id, role: 'admin', disabled: false });
      },
    );
    expect(answeredBeforeDisabled).toBe(false);
    // Before: answered with its conflicts (refused, G held for him), and the owner's write refused BUSY.
    expect(reply.ok ? `conflicts ${reply.value.conflicts.length}` : reply.error.code).toBe('BAD_SIGNATURE');
    expect(await ownerWrites()).toBe('accepted 1');
  });
});
