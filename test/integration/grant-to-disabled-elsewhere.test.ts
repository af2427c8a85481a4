/**
 * A grant made here and not sent, to someone a record from elsewhere disables
 * (electron/vault/replica-people-in.ts takeUser): the disabling desktop rotated them out of the
 * groups it knew, not out of one made here and not sent. Kept, the grant went out in the next push,
 * which the server refuses whole ("A disabled user is given no group key", FORBIDDEN), and no pull
 * settles it: this desktop's every push was refused. It is dropped and told instead.
 * Real vault files exchanging records as JSON, as a team server would relay them.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, MEMBER, newPeopleWorld, OWNER, PASSWORD, wire } from '../support/people-world';

describe('a grant here to someone disabled elsewhere', () => {
  it('is dropped and told, not sent to be refused at every push', async () => {
    const { clock, files } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
    });
    const [ownerFile = '', adminFile = ''] = files;
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.disableUser(MEMBER, await admin.team.userRevision(MEMBER));
    const out = await admin.replica.outgoing();
    await admin.close();

    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const servers = await owner.team.createGroup('Servers');
    await owner.team.grant(servers.id, MEMBER, false, await owner.team.groupRevision(servers.id));
    const mo = (await owner.team.listUsers()).find((u) => u.name === MEMBER);
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    const again = await owner.replica.outgoing();
    const members = (await owner.team.members(servers.id)).map((m) => m.name);
    await owner.close();
    expect(mo).toBeDefined();
    const moId = out.batch.records.find((r) => r.kind === 'user' && r.name === MEMBER)?.id;
    expect(moId).toBeDefined();
    // The disabling taken in is the admin's: not sent again from here (test/integration/taken-in-not-sent.test.ts).
    expect(again.batch.records.filter((r) => r.kind === 'user' && r.id === moId)).toEqual([]);
    // Given no key of any group: the server would refuse the whole push for it.
    expect(again.batch.records.filter((r) => r.kind === 'member' && r.user === moId && !r.revoked)).toEqual([]);
    expect(members).not.toContain(MEMBER);
    expect(taken.crossed.map((c) => c.user)).toContain(MEMBER);
  });
});
