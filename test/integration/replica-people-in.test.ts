/**
 * A desktop taking in a rotation made on another (#15, electron/vault/replica-people-in.ts),
 * between real vault files exchanging records as JSON, as a team server would relay them: a team
 * lead's desktop revokes a member from the group it leads (rotating its key). Another desktop
 * where the lead still leads the group takes the new key in, and its next sign-in opens the
 * group's entries under it; a desktop where the lead no longer manages the group (demoted to
 * technician there) refuses the very same records as tampered, changing nothing, and sets them
 * aside when syncing through a server. Must never: count a check that cannot fail (each side
 * shows the other's outcome).
 */
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, groupVersion, LEAD, LEAD_PASSWORD, MEMBER, newPeopleWorld, OWNER, PASSWORD, serverCodesOf, userState, wire } from '../support/people-world';

async function setUp() {
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
    members: [MEMBER],
    desktops: [{ label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'owner-2', name: OWNER, password: PASSWORD }, { label: 'owner-3', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
  });
  const [leadFile = '', ownerTwo = '', ownerThree = '', adminFile = ''] = files;
  return { clock, leadFile, ownerTwo, ownerThree, adminFile, netId };
}

describe('a rotation made on another desktop', () => {
  it('is taken in where its signer manages the group, and refused where they do not', async () => {
    const { clock, leadFile, ownerTwo, ownerThree, netId } = await setUp();
    // The lead revokes mo from Network on their desktop: the key rotates, the entry is re-sealed.
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.revoke(netId, MEMBER, await lead.team.memberRevision(netId, MEMBER));
    const rotation = await lead.replica.outgoing();
    await lead.close();
    expect(rotation.batch.records.map((r) => r.kind)).toEqual(expect.arrayContaining(['group', 'member', 'entry']));

    // Where lena leads Network: taken in; signed in again, the entry opens under the new key.
    const two = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    expect(groupVersion(ownerTwo, netId)).toBe(1);
    const taken = await two.replica.apply(wire(rotation));
    expect(taken.applied).toBeGreaterThan(0);
    await two.close();
    const again = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    expect(groupVersion(ownerTwo, netId)).toBe(2);
    expect((await again.team.members(netId)).map((m) => m.name).sort()).toEqual([ADMIN, OWNER, LEAD].sort());
    expect(await again.revealPassword((await again.resolvePath('Acme/Core switch')).id)).toBe('cs-1');
    await again.close();

    // Where the owner made lena a technician first (she manages no group there): refused, nothing changed.
    const three = await Vault.open(ownerThree, clock).signIn(OWNER, PASSWORD);
    await three.team.changeRole(LEAD, 'technician', await three.team.userRevision(LEAD));
    await expect(three.replica.apply(wire(rotation))).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    expect(groupVersion(ownerThree, netId)).toBe(1);
    // Through a server (records set aside rather than refusing the rest): still not taken in.
    const held = await three.replica.apply(wire(rotation), { hold: true, caughtUp: true });
    expect(held.held.map((h) => h.kind)).toEqual(expect.arrayContaining(['group', 'entry']));
    expect(held.accessRemoved).toEqual([]);
    expect(groupVersion(ownerThree, netId)).toBe(1);
    expect((await three.team.members(netId)).map((m) => m.name).sort()).toEqual([ADMIN, LEAD, MEMBER, OWNER].sort());
    expect(await three.revealPassword((await three.resolvePath('Acme/Core switch')).id)).toBe('cs-1');
    await three.close();
  });

  it('takes a role change in where its signer may make it, refuses it where not, and never plays an older one back', async () => {
    const { clock, ownerTwo, ownerThree, adminFile } = await setUp();
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.changeRole(MEMBER, 'team_lead', await admin.team.userRevision(MEMBER));
    const promote = await admin.replica.outgoing();
    await admin.replica.markSent(promote);
    await admin.team.changeRole(MEMBER, 'technician', await admin.team.userRevision(MEMBER));
    const demote = await admin.replica.outgoing();
    await admin.close();
    expect(promote.batch.records.filter((r) => r.kind === 'user' && r.name === MEMBER).map((r) => r.kind === 'user' && r.role)).toEqual(['team_lead']);

    // Where ada is an admin: taken in, in order; the older record played again changes nothing.
    const two = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    expect(userState(ownerTwo, MEMBER)).toEqual({ role: 'technician', disabled: false });
    await two.replica.apply(wire(promote));
    expect(userState(ownerTwo, MEMBER)).toEqual({ role: 'team_lead', disabled: false });
    await two.replica.apply(wire(demote));
    expect(userState(ownerTwo, MEMBER)).toEqual({ role: 'technician', disabled: false });
    const replayed = await two.replica.apply(wire(promote));
    expect(replayed.applied).toBe(0);
    expect(userState(ownerTwo, MEMBER)).toEqual({ role: 'technician', disabled: false });
    await two.close();

    // Where the owner made ada a technician first: refused as tampered, nothing changed.
    const three = await Vault.open(ownerThree, clock).signIn(OWNER, PASSWORD);
    await three.team.changeRole(ADMIN, 'technician', await three.team.userRevision(ADMIN));
    await expect(three.replica.apply(wire(promote))).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    expect(userState(ownerThree, MEMBER)).toEqual({ role: 'technician', disabled: false });
    await three.close();
  });

  it('is taken in by a codes-only member of a group the server computes codes for (no secret key to seal again with): the rotating desktop\'s versions fill in', async () => {
    const { clock, files: [leadFile = '', codyFile = ''], netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: 'cody', role: 'codes_only', password: 'cody only reads the codes' }],
      members: [MEMBER, 'cody'],
      desktops: [{ label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'cody', name: 'cody', password: 'cody only reads the codes' }],
      beforeCopies: async (file, clock, net) => {
        const owner = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
        await owner.team.setServerCodes(net, true, await owner.team.groupRevision(net));
        await owner.close();
      },
    });
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.updateEntry((await lead.resolvePath('Acme/Core switch')).id, { title: 'Core switch 2' }, (await lead.resolvePath('Acme/Core switch')).revision ?? -1);
    await lead.team.revoke(netId, MEMBER, await lead.team.memberRevision(netId, MEMBER));
    const rotation = await lead.replica.outgoing();
    await lead.close();

    expect(groupVersion(codyFile, netId)).toBe(2);
    const cody = await Vault.open(codyFile, clock).signIn('cody', 'cody only reads the codes');
    const outcome = await cody.replica.apply(wire(rotation), { hold: true, caughtUp: true });
    expect(outcome.held).toEqual([]);
    await cody.close();
    const again = await Vault.open(codyFile, clock).signIn('cody', 'cody only reads the codes');
    expect(groupVersion(codyFile, netId)).toBe(3);
    expect((await again.listEntries()).map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme/Core switch 2']);
    await again.close();
  });

  it('takes the "server computes codes" setting in from an owner\'s group record: on with its rotation, off alone', async () => {
    const { clock, ownerTwo, ownerThree, netId } = await setUp();
    const setter = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    await setter.team.setServerCodes(netId, true, await setter.team.groupRevision(netId));
    const on = await setter.replica.outgoing();
    await setter.replica.markSent(on);
    await setter.team.setServerCodes(netId, false, await setter.team.groupRevision(netId));
    const off = await setter.replica.outgoing();
    await setter.close();

    const three = await Vault.open(ownerThree, clock).signIn(OWNER, PASSWORD);
    expect(serverCodesOf(ownerThree, netId)).toBe(false);
    await three.replica.apply(wire(on));
    expect([serverCodesOf(ownerThree, netId), groupVersion(ownerThree, netId)]).toEqual([true, 2]);
    await three.replica.apply(wire(off));
    expect([serverCodesOf(ownerThree, netId), groupVersion(ownerThree, netId)]).toEqual([false, 2]);
    await three.close();
  });
});
