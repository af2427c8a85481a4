/**
 * A key change owed (issue #15, docs/SYNC.md "A key change owed") learnt by a desktop filled by its first sync: the
 * owner makes Ops with bob in it and an entry, syncs, then removes bob; the push stores the removal (bob cut off on the
 * server) and loses the key change on the way, and that desktop is never synced again. A new desktop of the owner, empty,
 * takes the server's snapshot (first-sync.ts): Ops, its members and bob's removal, a pair it never held. It must note
 * the key change owed and tell it; changed there (team.ts rotateKey), the server holds Ops at the next version without
 * bob, the entry opens, the line stops, and a desktop filled afterwards is told nothing.
 * Real desktops (real vault files) against a real team server on loopback (test/support/first-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TeamClient } from '../../electron/team/client';
import { syncOnce } from '../../electron/team/sync';
import { getGroup, getMembership } from '../../server/store/membership';
import { listing, useFirstDesktops } from '../support/first-desktops';
import { losingRotations, outcomeOf, userUidIn } from '../support/revoke-first';
import { groupUidIn } from '../support/team-desktops';
import { FAST_KDF, manualClock } from '../support/vault';

const OWED = 'bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen).';

describe('a key change owed learnt by a desktop filled by its first sync', () => {
  const clock = manualClock(Date.UTC(2026, 11, 13, 9, 0, 0));
  const world = useFirstDesktops('crewvault-key-change-owed-first-sync', clock, { entries: 2, customers: 1, deviceId: 'key-change-owed-first-sync-01' });
  let vault = '';
  let opsUid = '';
  let bobUid = '';

  /** Ops as the server holds it: its key version, and whether bob is a member there. */
  const opsOnServer = () => world.server.database.transaction(async (tx) => ({
    version: (await getGroup(tx, vault, opsUid))?.keyVersion,
    bob: (await getMembership(tx, vault, opsUid, bobUid)) !== undefined,
  }));

  /** The id of the group named `name` on a desktop. */
  const groupNamed = async (session: Awaited<ReturnType<typeof world.signIn>>, name: string): Promise<number> => {
    const found = (await session.team.listGroups()).find((g) => g.name === name);
    if (found === undefined) throw new Error(`no group ${name} here`);
    return found.id;
  };

  beforeAll(async () => {
    const owner = await world.signIn(world.ownerFile);
    try {
      await owner.createUser('bob', 'technician', 'a one-time password for bob', FAST_KDF);
      const ops = await owner.team.createGroup('Ops');
      await owner.team.grant(ops.id, 'bob', false, await owner.team.groupRevision(ops.id));
      await owner.createEntries([{ customer: 'Acme', title: 'Core switch', password: 'cs-1', groupId: ops.id }]);
      await syncOnce(world.client, owner.replica);
      vault = await owner.replica.vaultId();
      opsUid = groupUidIn(world.ownerFile, ops.id);
      bobUid = userUidIn(world.ownerFile, 'bob');
      expect(await opsOnServer()).toEqual({ version: 1, bob: true });
      await owner.team.revoke(ops.id, 'bob', await owner.team.memberRevision(ops.id, 'bob'));
      // A client of its own (the world's keeps its calls as they are).
      expect(await outcomeOf(syncOnce(losingRotations(Object.create(world.client) as TeamClient), owner.replica))).toMatch(/^SERVER_UNREACHABLE/);
    } finally {
      await owner.close();
    }
    // The owner's desktop is never synced again from here.
    expect(await opsOnServer()).toEqual({ version: 1, bob: false });
  }, 120_000);

  it('is told by the first sync, changed there, and told no more', async () => {
    const fresh = await world.signIn(await world.newDesktop('fresh'));
    try {
      expect(await fresh.replica.isEmpty()).toBe(true);
      expect((await syncOnce(world.client, fresh.replica)).keyChangesOwed).toBe(OWED);
      expect((await syncOnce(world.client, fresh.replica)).keyChangesOwed).toBe(OWED);
      await fresh.team.rotateKey(await groupNamed(fresh, 'Ops'));
      const sent = await syncOnce(world.client, fresh.replica);
      expect(sent.keyChangesOwed).toBeUndefined();
      expect(await opsOnServer()).toEqual({ version: 2, bob: false });
      expect((await listing(fresh)).filter((e) => e.startsWith('Acme/'))).toEqual(['Acme/Core switch/cs-1']);
      expect((await syncOnce(world.client, fresh.replica)).keyChangesOwed).toBeUndefined();
    } finally {
      await fresh.close();
    }
    // A desktop filled after the key change notes nothing.
    const later = await world.signIn(await world.newDesktop('later'));
    try {
      const first = await syncOnce(world.client, later.replica);
      expect(first.keyChangesOwed).toBeUndefined();
      expect((await listing(later)).filter((e) => e.startsWith('Acme/'))).toEqual(['Acme/Core switch/cs-1']);
    } finally {
      await later.close();
    }
  }, 180_000);
});
