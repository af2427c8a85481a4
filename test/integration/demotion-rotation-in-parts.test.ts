/**
 * The demotion split from its rotation (beside finding D6): an owner makes bob, a technician of a
 * group whose codes the team server computes, codes-only; their desktop rotates the group so bob
 * keeps the list key alone (team.ts followRole). A push cut into parts (electron/team/sync.ts
 * partsOf; here one record a part, as a large push is cut) sent the user record in a part of its
 * own: the server refused it (bob, now codes-only, still wrapped the group's secret key) and the
 * sync ended FORBIDDEN until the push was sent whole. Who is who now goes first in one part (user
 * and group records and the pusher's own memberships), so the demotion travels with its rotation:
 * the sync is stored, and the server holds bob codes-only, the group at its new version, bob's
 * wrap there the list key alone. One desktop (a real vault file, real crypto) and a real team
 * server (PGlite) on loopback, its session in a private Secret Service. Must never put a password
 * in a process argument.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVault, Vault } from '../../electron/vault/vault';
import { useOneDesktopServer } from '../support/one-desktop-server';
import { groupUidIn } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
const world = useOneDesktopServer('crewvault-demotion-in-parts', clock);

describe('a demotion to codes-only and its rotation, pushed in parts', () => {
  it('reach the server together: the sync is stored, bob codes-only, the group rotated, his wrap the list key alone', async () => {
    const file = path.join(world.home, 'owner.crewvault');
    const created = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    await created.createUser('bob', 'technician', 'a one-time password for bob', FAST_KDF);
    await created.createUser('carol', 'technician', 'a one-time password for carol', FAST_KDF);
    const ops = await created.team.createGroup('Ops');
    for (const name of ['bob', 'carol']) await created.team.grant(ops.id, name, false, await created.team.groupRevision(ops.id));
    await created.team.setServerCodes(ops.id, true, await created.team.groupRevision(ops.id));
    await created.createEntries([{ customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id }, { customer: 'Acme', title: 'Printer', password: 'p-1' }]);
    await created.close();

    await world.ownerLogin();
    const client = await world.ownerClient();
    const { syncOnce } = await import('../../electron/team/sync');

    const session = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    try {
      await syncOnce(client, session.replica, { move: true });
      const vault = await session.replica.vaultId();
      const group = groupUidIn(file, ops.id);
      const versionBefore = await world.groupVersion(vault, group);
      clock.advance(1_000);
      await session.team.changeRole('bob', 'codes_only', await session.team.userRevision('bob'));
      // Every record in a part of its own, as far as partsOf cuts: the demotion must still travel with its rotation.
      const outcome = await syncOnce(client, session.replica, { partRecords: 1 }).then(() => 'stored', (error: unknown) => String(error));
      expect({ outcome, ...await world.bobAndCarolIn(vault, group) }).toEqual({
        outcome: 'stored', bobRole: 'codes_only', version: versionBefore + 1, wraps: { bob: { keyVersion: versionBefore + 1, secret: false }, carol: { keyVersion: versionBefore + 1, secret: true } },
      });
    } finally {
      await session.close();
    }
  }, 120_000);
});
