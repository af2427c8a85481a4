/**
 * What keeps an honest customer record from being gone over as a squatted name (hostile review of
 * C1; electron/vault/replica-customer-squatted.ts): a desktop goes over a record of its unsent
 * customer's keyed name only when the record's sealed name opens to that name under no directory
 * key it holds. Here the owner's desktop rotated its directory key (a user disabled); a record
 * indexed as its "Globex" whose name is sealed under the key it held before is not gone over (set
 * aside, the customer held back as before), while one whose sealed name opens nowhere is (the
 * customer made here takes its id, one revision past it).
 * A real vault file, real crypto, records applied as a pull would hand them; signed with the
 * owner's own key (who sends does not matter to the guard). Must never read the wall clock.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealJson } from '../../electron/vault/crypto';
import { newUid, uidText } from '../../electron/vault/ids';
import { contexts, customerIndex, type KeyRing } from '../../electron/vault/keys';
import type { VaultSession } from '../../electron/vault/service';
import { signBytes } from '../../electron/vault/signing';
import { recordSigningText, REPLICA_FORMAT, type CustomerRecord } from '../../shared/sync/records';
import { signerOf } from '../support/desktop-copies';
import { FAST_KDF, manualClock, newVault } from '../support/vault';

/** The key ring a session holds (a private field: the test plays a member's altered desktop, which holds the same keys). */
function ringOf(session: VaultSession): KeyRing {
  return (session as unknown as { ring: KeyRing }).ring;
}

/**
 * A customer record under `template`'s author and name index (or `nameIndex`), with id `uid` and `sealed` as its sealed
 * name, at revision 1 (or `at`), signed by the session's signer.
 */
function recordOf(session: VaultSession, vault: string, template: CustomerRecord, uid: Buffer, sealed: Buffer, at: { readonly revision: number; readonly base: number } = { revision: 1, base: 0 }, nameIndex = template.nameIndex): CustomerRecord {
  const signer = signerOf(session);
  const unsigned = { kind: 'customer' as const, id: uidText(uid), revision: at.revision, base: at.base, sealedName: sealed.toString('base64url'), nameIndex, createdAt: template.createdAt, author: template.author, signerKey: uidText(signer.keyUid) };
  return { ...unsigned, signature: signBytes(signer.privateKey, Buffer.from(recordSigningText(vault, unsigned), 'utf8')).toString('base64url') };
}

describe('going over a squatted customer name never takes an honest record', () => {
  it('a name sealed under a directory key this desktop held before is set aside; one that opens nowhere is gone over', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 7, 1, 0, 0));
    const { session } = await newVault(clock);
    try {
      await session.createUser('mallory', 'technician', 'a one-time password for mallory', FAST_KDF);
      await session.createEntries([{ customer: 'Globex', title: 'VPN', password: 'vpn-1' }]);
      // Disabling mallory rotates the directory key: Globex's name sealed again, its index under the new key.
      clock.advance(1_000);
      await session.team.disableUser('mallory', await session.team.userRevision('mallory'));
      const ring = ringOf(session);
      expect(ring.directoryVersion).toBe(2);
      const before = ring.olderDirectoryKey(1);
      if (before === undefined) throw new Error('the key before the rotation is not held');
      const vault = await session.replica.vaultId();
      const mine = (await session.replica.outgoing(false, true)).batch.records.find((r): r is CustomerRecord => r.kind === 'customer');
      if (mine === undefined) throw new Error('Globex is not unsent');

      // Globex's name, sealed under the key held before, indexed as Globex is now: it opens here, under that key. Set aside, not gone over.
      clock.advance(1_000);
      const honestUid = newUid(clock.now());
      const honest = recordOf(session, vault, mine, honestUid, sealJson(before, 'Globex', contexts.customerName({ uid: honestUid })));
      const first = await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [honest] }, { hold: true });
      expect(first.customersWentOver).toEqual([]);
      expect(first.held).toMatchObject([{ id: honest.id, reason: expect.stringMatching(/does not open/) as unknown }]);
      // Globex keeps its own id, held back with its entry as the set-aside record's name (store-replica.ts customersHeldBack).
      const held = await session.replica.outgoing(false, true);
      expect(held.batch.records.filter((r) => r.kind === 'customer')).toEqual([]);
      expect(held.customersHeldBack).toMatchObject([{ reason: expect.stringMatching(/does not open/) as unknown, entries: 1 }]);

      // The same name in another case under that key is no garbage either (its index is Globex's).
      clock.advance(1_000);
      const variantUid = newUid(clock.now());
      const variant = recordOf(session, vault, mine, variantUid, sealJson(before, 'GLOBEX', contexts.customerName({ uid: variantUid })));
      expect((await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [variant] }, { hold: true })).customersWentOver).toEqual([]);

      // Garbage under the same index: gone over, Globex made here takes its id, one revision past it.
      clock.advance(1_000);
      const squatUid = newUid(clock.now());
      const sealed = Buffer.from(mine.sealedName, 'base64url');
      const squat = recordOf(session, vault, mine, squatUid, Buffer.concat([sealed.subarray(0, sealed.length - 16), randomBytes(16)]));
      const second = await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [squat] }, { hold: true });
      expect(second.customersWentOver).toEqual([{ by: 'alice', why: 'whose name does not open here' }]);
      const sent = (await session.replica.outgoing(false, true)).batch.records.find((r): r is CustomerRecord => r.kind === 'customer');
      expect(sent).toMatchObject({ id: squat.id, revision: 2, base: 1, nameIndex: mine.nameIndex });
      expect((await session.listEntries()).map((e) => `${e.customer}/${e.title}`)).toEqual(['Globex/VPN']);
    } finally {
      await session.close();
    }
  });

  it('a garbage revision over a customer the team holds is never gone over, whether this desktop holds it or never saw it', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 7, 1, 0, 0));
    const { session } = await newVault(clock);
    try {
      await session.createEntries([{ customer: 'Globex', title: 'VPN', password: 'vpn-1' }]);
      const ring = ringOf(session);
      const vault = await session.replica.vaultId();
      const mine = (await session.replica.outgoing(false, true)).batch.records.find((r): r is CustomerRecord => r.kind === 'customer');
      if (mine === undefined) throw new Error('Globex is not unsent');
      const garbage = (uid: Buffer): Buffer => sealJson(randomBytes(32), 'Globex', contexts.customerName({ uid }));

      // Initech, made elsewhere and taken in here; then a member's garbage revision of it under Globex's index.
      clock.advance(1_000);
      const initech = newUid(clock.now());
      const honest = recordOf(session, vault, mine, initech, sealJson(ring.directoryKey, 'Initech', contexts.customerName({ uid: initech })), undefined, customerIndex(ring, 'Initech').toString('base64url'));
      expect((await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [honest] }, { hold: true })).applied).toBe(1);
      clock.advance(1_000);
      const over = recordOf(session, vault, mine, initech, garbage(initech), { revision: 2, base: 1 });
      // Before, the fold met Initech's row under that id (a UNIQUE constraint: the apply threw, at every sync) or took its name over.
      const first = await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [over] }, { hold: true });
      expect(first.customersWentOver).toEqual([]);
      expect(first.held).toMatchObject([{ id: over.id, reason: expect.stringMatching(/does not open/) as unknown }]);

      // A customer the team made and a member replaced before this desktop pulled it: a revision over one it never saw.
      clock.advance(1_000);
      const unseen = newUid(clock.now());
      const behind = recordOf(session, vault, mine, unseen, garbage(unseen), { revision: 2, base: 1 });
      const second = await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [behind] }, { hold: true });
      expect(second.customersWentOver).toEqual([]);
      expect(second.held.map((h) => h.id)).toContain(behind.id);

      // A second readable Initech of another id: two on the team, set aside as such; its reason, kept in the file, names no customer.
      clock.advance(1_000);
      const twice = newUid(clock.now());
      const second2 = recordOf(session, vault, mine, twice, sealJson(ring.directoryKey, 'Initech', contexts.customerName({ uid: twice })), undefined, customerIndex(ring, 'Initech').toString('base64url'));
      const third = await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [second2] }, { hold: true });
      expect(third.held.find((h) => h.id === second2.id)?.reason).toMatch(/^A customer of this name is on the team server twice/);

      // Globex stays its own, held back with its entry; Initech keeps its name.
      const held = await session.replica.outgoing(false, true);
      expect(held.batch.records.filter((r) => r.kind === 'customer')).toEqual([]);
      expect(held.customersHeldBack).toMatchObject([{ name: 'Globex', entries: 1 }]);
      await session.createEntries([{ customer: 'Initech', title: 'Portal', password: 'portal-1' }]);
      expect((await session.listEntries()).map((e) => `${e.customer}/${e.title}`).sort()).toEqual(['Globex/VPN', 'Initech/Portal']);
    } finally {
      await session.close();
    }
  });

  it('another desktop\'s going over the same record, its name typed in another case, is taken over this one\'s unsent: nothing left to send', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 7, 1, 0, 0));
    const { session } = await newVault(clock);
    try {
      await session.createEntries([{ customer: 'Globex', title: 'VPN', password: 'vpn-1' }]);
      const ring = ringOf(session);
      const vault = await session.replica.vaultId();
      const mine = (await session.replica.outgoing(false, true)).batch.records.find((r): r is CustomerRecord => r.kind === 'customer');
      if (mine === undefined) throw new Error('Globex is not unsent');
      clock.advance(1_000);
      const squatUid = newUid(clock.now());
      const squat = recordOf(session, vault, mine, squatUid, sealJson(randomBytes(32), 'Globex', contexts.customerName({ uid: squatUid })));
      expect((await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [squat] }, { hold: true })).customersWentOver).toHaveLength(1);

      // Another desktop went over it first, as "GLOBEX" (one keyed name): stored, handed here before this desktop's push.
      clock.advance(1_000);
      const theirs = recordOf(session, vault, mine, squatUid, sealJson(ring.directoryKey, 'GLOBEX', contexts.customerName({ uid: squatUid })), { revision: 2, base: 1 });
      const taken = await session.replica.apply({ format: REPLICA_FORMAT, vault, records: [theirs] }, { hold: true });
      // Before, set aside as a rename, and this desktop's revision 2 sent again and refused at every sync.
      expect(taken.held).toEqual([]);
      const out = await session.replica.outgoing(false, true);
      expect(out.batch.records.filter((r) => r.kind === 'customer')).toEqual([]);
      expect((await session.listEntries()).map((e) => `${e.customer}/${e.title}`)).toEqual(['GLOBEX/VPN']);
    } finally {
      await session.close();
    }
  });
});
