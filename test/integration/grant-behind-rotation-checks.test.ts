/**
 * A grant from elsewhere taken in under this desktop's own rotation, not sent yet (electron/vault/replica-people-in.ts
 * grantedUnderOwnRotation), between real vault files exchanging records as JSON, as a team server would relay them: a
 * lead's grant made while the owner's revoke waits is wrapped again at the rotation's version (the granted person's
 * desktop opens the group's entry under it); an older grant a relay plays back, which a later revoke replaced, wraps
 * nobody; a grant of someone disabled here is dropped with the old key and told, never sent for the server to refuse.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import type { Outgoing } from '../../electron/vault/replica-service';
import { userUidIn } from '../support/revoke-first';
import { groupUidIn } from '../support/team-desktops';
import { grantTakenUnderOwnersChange } from '../support/grant-under-rotation';
import { ADMIN, ADMIN_PASSWORD, groupVersion, LEAD, LEAD_PASSWORD, MEMBER, newPeopleWorld, OTHER, OWNER, PASSWORD, wire } from '../support/people-world';

const OTHER_PASSWORD = 'oz joins the network team';

/** The live member records of `out` of group `group` for user `uid` (global ids), as key version and author. */
function wrapsOf(out: Outgoing, group: string, uid: string): Array<{ keyVersion: number; author: string }> {
  return out.batch.records.flatMap((r) => (r.kind === 'member' && r.group === group && r.user === uid && !r.revoked ? [{ keyVersion: r.keyVersion, author: r.author }] : []));
}

/** A batch of `out`'s records that `keep` picks, as a relay hands them on. */
function only(out: Outgoing, keep: (r: Outgoing['batch']['records'][number]) => boolean): unknown {
  return wire({ ...out, batch: { ...out.batch, records: out.batch.records.filter(keep) } });
}

describe('a grant made elsewhere under a rotation waiting here', () => {
  it('is wrapped again at the rotation\'s version, and the granted person opens the group under it', async () => {
    const world = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician', password: OTHER_PASSWORD }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'oz', name: OTHER, password: OTHER_PASSWORD }],
    });
    const { clock, files, netId } = world;
    const [ownerFile = '', , ozFile = ''] = files;
    const { grant, taken, rotation, members, ozUid, group } = await grantTakenUnderOwnersChange(world, async (owner) => {
      await owner.team.revoke(netId, MEMBER, await owner.team.memberRevision(netId, MEMBER));
    });
    const ownerUid = userUidIn(ownerFile, OWNER);
    expect({ version: groupVersion(ownerFile, netId), members, crossed: taken.crossed, held: taken.held }).toEqual({ version: 2, members: [OTHER, OWNER, LEAD].sort(), crossed: [], held: [] });
    // The rotation carries oz, wrapped at its version by the owner: the grant, one revision above it.
    expect(wrapsOf(grant, group, ozUid)).toEqual([{ keyVersion: 1, author: expect.any(String) as string }]);
    expect(wrapsOf(rotation, group, ozUid)).toEqual([{ keyVersion: 2, author: ownerUid }]);

    // oz's desktop takes the grant, then the rotation: the entry opens under the new key.
    const oz = await Vault.open(ozFile, clock).signIn(OTHER, OTHER_PASSWORD);
    await oz.replica.apply(wire(grant), { hold: true, caughtUp: true });
    const ozTaken = await oz.replica.apply(wire(rotation), { hold: true, caughtUp: true });
    await oz.close();
    expect({ version: groupVersion(ozFile, netId), held: ozTaken.held, removed: ozTaken.accessRemoved }).toEqual({ version: 2, held: [], removed: [] });
    const ozAgain = await Vault.open(ozFile, clock).signIn(OTHER, OTHER_PASSWORD);
    const password = await ozAgain.revealPassword((await ozAgain.resolvePath('Acme/Core switch')).id);
    await ozAgain.close();
    expect(password).toBe('cs-1');
  });

  it('wraps nobody for an older grant played back that a later revoke replaced', async () => {
    const { clock, files, netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
    });
    const [ownerFile = '', adminFile = ''] = files;
    // The admin grants oz Network, then revokes him: the revoke goes ahead of its rotation (at the version held), which waits.
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.grant(netId, OTHER, false, await admin.team.groupRevision(netId));
    const grant = await admin.replica.outgoing();
    await admin.replica.markSent(grant);
    await admin.team.revoke(netId, OTHER, await admin.team.memberRevision(netId, OTHER));
    const revoke = await admin.replica.outgoing();
    await admin.close();
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const ozUid = userUidIn(ownerFile, OTHER);
    await owner.replica.apply(wire(grant), { hold: true, caughtUp: true });
    const revoked = revoke.batch.records.filter((r) => r.kind === 'member' && r.group === groupUidIn(ownerFile, netId) && r.user === ozUid && r.revoked);
    expect(revoked.map((r) => r.kind === 'member' && r.keyVersion)).toEqual([1]);
    await owner.replica.apply(only(revoke, (r) => revoked.includes(r)), { hold: true, caughtUp: true });
    expect((await owner.team.members(netId)).map((m) => m.name)).not.toContain(OTHER);
    // The owner revokes mo: its rotation waits. A relay plays the admin's first grant of oz back.
    await owner.team.revoke(netId, MEMBER, await owner.team.memberRevision(netId, MEMBER));
    const replayed = await owner.replica.apply(wire(grant), { hold: true, caughtUp: true });
    const rotation = await owner.replica.outgoing();
    const members = (await owner.team.members(netId)).map((m) => m.name).sort();
    await owner.close();
    expect({ version: groupVersion(ownerFile, netId), members, crossed: replayed.crossed }).toEqual({ version: 2, members: [ADMIN, LEAD, OWNER].sort(), crossed: [] });
    expect(wrapsOf(rotation, groupUidIn(ownerFile, netId), ozUid)).toEqual([]);
  });

  it('drops a grant of someone disabled here, told, and sends no key for them', async () => {
    const world = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'lead', name: LEAD, password: LEAD_PASSWORD }],
    });
    const { netId } = world;
    const { taken, rotation, members, ozUid, group } = await grantTakenUnderOwnersChange(world, async (owner) => {
      await owner.team.revoke(netId, MEMBER, await owner.team.memberRevision(netId, MEMBER));
      await owner.team.disableUser(OTHER, await owner.team.userRevision(OTHER));
    });
    expect({ members, held: taken.held }).toEqual({ members: [LEAD, OWNER].sort(), held: [] });
    expect(taken.crossed.map((c) => c.user)).toEqual([OTHER]);
    expect(taken.crossed[0]?.detail).toMatch(/they are disabled here\): the grant dropped, their removal sent with the new key/);
    expect(wrapsOf(rotation, group, ozUid)).toEqual([]);
    // Their removal goes with it, signed at the version the grant gave, so a desktop of theirs is cut off, not left holding the group set aside.
    const removals = rotation.batch.records.flatMap((r) => (r.kind === 'member' && r.group === group && r.user === ozUid && r.revoked ? [r.keyVersion] : []));
    expect(removals).toEqual([1]);
  });
});
