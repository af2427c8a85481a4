/**
 * A grant from elsewhere taken in under a change waiting unsent on the owner's desktop (electron/vault/replica-people-in.ts
 * grantedUnderOwnRotation), between the vault files of a people world (people-world.ts) exchanging records as JSON, as a
 * team server would relay them: the steps grant-behind-rotation-checks and grant-behind-rotation-review take alike.
 * Must never: sign in anyone but the owner and the granter, or send anything the test does not read.
 */
import type { ApplyOutcome, Outgoing } from '../../electron/vault/replica-service';
import type { Clock, VaultSession } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { LEAD, LEAD_PASSWORD, OTHER, OWNER, PASSWORD, wire } from './people-world';
import { userUidIn } from './revoke-first';
import { groupUidIn } from './team-desktops';

export interface GrantTaken {
  /** The granter's push: oz granted Network at the version the server holds. */
  readonly grant: Outgoing;
  /** What taking the grant in on the owner's desktop told. */
  readonly taken: ApplyOutcome;
  /** The owner's desktop's next push: the rotation its change waits with. */
  readonly rotation: Outgoing;
  /** Who the owner's desktop holds in Network after it, by name, sorted. */
  readonly members: string[];
  /** oz's and Network's global ids. */
  readonly ozUid: string;
  readonly group: string;
}

/**
 * `change` made offline on the owner's desktop (files[0]); then the granter (files[1]: lena unless named), not yet told,
 * grants oz Network; then the owner's desktop takes that grant in and makes its next push.
 */
export async function grantTakenUnderOwnersChange(
  world: { readonly clock: Clock; readonly files: readonly string[]; readonly netId: number },
  change: (owner: VaultSession) => Promise<void>,
  granter: { readonly name: string; readonly password: string } = { name: LEAD, password: LEAD_PASSWORD },
): Promise<GrantTaken> {
  const { clock, files, netId } = world;
  const [ownerFile = '', granterFile = ''] = files;
  const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
  await change(owner);
  await owner.close();
  const granting = await Vault.open(granterFile, clock).signIn(granter.name, granter.password);
  await granting.team.grant(netId, OTHER, false, await granting.team.groupRevision(netId));
  const grant = await granting.replica.outgoing();
  await granting.close();

  const again = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
  const taken = await again.replica.apply(wire(grant), { hold: true, caughtUp: true });
  const rotation = await again.replica.outgoing();
  const members = (await again.team.members(netId)).map((m) => m.name).sort();
  await again.close();
  return { grant, taken, rotation, members, ozUid: userUidIn(ownerFile, OTHER), group: groupUidIn(ownerFile, netId) };
}
