/**
 * A key changed at will (team.ts rotateKey, docs/SYNC.md "A key change owed") in a group whose codes the team server
 * computes: the rotation must keep the secret key from its codes-only member (bob holds the list key alone at the new
 * version) and give it to those whose role may hold it there (carol, a technician), and the server must take the push
 * (it refuses a secret key wrapped for a codes-only member there: server/sync/membership.ts). A codes-only member and a
 * role that manages the group but may not hold its secret key there may not change it. One desktop (a real vault file,
 * real crypto) and a real team server (PGlite) on loopback, its session in a private Secret Service. Must never put a
 * password in a process argument.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVault, Vault } from '../../electron/vault/vault';
import { CrewvaultError } from '../../shared/errors';
import { useOneDesktopServer } from '../support/one-desktop-server';
import { groupUidIn } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 13, 9, 0, 0));
const world = useOneDesktopServer('crewvault-rotate-key-server-codes', clock);

const codeOf = (run: Promise<unknown>): Promise<string> => run.then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error)));

describe('a key changed in a group whose codes the server computes', () => {
  it('is stored by the server, the codes-only member holding the list key alone at the new version', async () => {
    const file = path.join(world.home, 'owner.crewvault');
    const created = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    await created.createUser('bob', 'codes_only', 'a one-time password for bob', FAST_KDF);
    await created.createUser('carol', 'technician', 'a one-time password for carol', FAST_KDF);
    await created.team.defineRole('codes_lead', ['entries.view', 'otp.view', 'groups.manage'], 0);
    await created.createUser('dave', 'codes_lead', 'a one-time password for dave', FAST_KDF);
    const ops = await created.team.createGroup('Ops');
    for (const name of ['bob', 'carol']) await created.team.grant(ops.id, name, false, await created.team.groupRevision(ops.id));
    await created.team.grant(ops.id, 'dave', true, await created.team.groupRevision(ops.id));
    await created.team.setServerCodes(ops.id, true, await created.team.groupRevision(ops.id));
    await created.createEntries([{ customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id }]);
    await created.close();

    await world.ownerLogin();
    const client = await world.ownerClient();
    const { syncOnce } = await import('../../electron/team/sync');

    const session = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    await syncOnce(client, session.replica, { move: true });
    const vault = await session.replica.vaultId();
    const group = groupUidIn(file, ops.id);
    const versionBefore = await world.groupVersion(vault, group);
    try {
      clock.advance(1_000);
      await session.team.rotateKey(ops.id);
      const outcome = await syncOnce(client, session.replica).then(() => 'stored', (error: unknown) => String(error));
      expect({ outcome, ...await world.bobAndCarolIn(vault, group) }).toEqual({
        outcome: 'stored', bobRole: 'codes_only', version: versionBefore + 1, wraps: { bob: { keyVersion: versionBefore + 1, secret: false }, carol: { keyVersion: versionBefore + 1, secret: true } },
      });
    } finally {
      await session.close();
    }
    // Neither a codes-only member nor a lead whose role may not hold the secret key there changes it.
    for (const [name, refusal] of [['bob', 'FORBIDDEN'], ['dave', 'FORBIDDEN']] as const) {
      const theirs = await Vault.open(file, clock).signIn(name, `a one-time password for ${name}`);
      try {
        expect(await codeOf(theirs.team.rotateKey(ops.id)), name).toBe(refusal);
      } finally {
        await theirs.close();
      }
    }
    expect(await world.groupVersion(vault, group)).toBe(versionBefore + 1);
  }, 120_000);
});
