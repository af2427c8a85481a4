/**
 * A vault with an owner, and a way to add someone with a role who has already replaced their
 * one-time password (`NAME password` → `NAME password!`), signed in: what most role tests need.
 */
import type { VaultSession } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { FAST_KDF, manualClock, newVault } from './vault';

export async function newTeam() {
  const clock = manualClock();
  const { file, session: owner } = await newVault(clock);
  const vault = Vault.open(file, clock);
  const add = async (name: string, role: string): Promise<VaultSession> => {
    await owner.createUser(name, role, `${name} password`, FAST_KDF);
    const session = await vault.signIn(name, `${name} password`);
    await session.changePassword(`${name} password`, `${name} password!`, FAST_KDF);
    return session;
  };
  return { file, clock, owner, vault, add };
}
