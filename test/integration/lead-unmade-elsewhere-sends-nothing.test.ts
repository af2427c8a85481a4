/**
 * A lead unmade elsewhere sends nothing of the group as its lead: lena makes mo a lead of Network on
 * her desktop and has not sent it when the admin's unmaking of her comes in (replica-people-new.ts
 * takeOwnLead). Her desktop counts her as leading a group while the server still does (her own
 * unmaking not sent: replica-service.ts peopleSender, from the membership's agreed state); the
 * unmaking taken in is agreed too, so the making goes nowhere: sent, the server refuses the whole
 * push (she no longer manages Network), and every push after it. Real vault files, records as JSON.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, LEAD, LEAD_PASSWORD, MEMBER, newPeopleWorld, OTHER, wire } from '../support/people-world';

describe('a lead unmade elsewhere', () => {
  it('sends no member record of the group it no longer leads', async () => {
    const { clock, files, netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
      members: [MEMBER, OTHER],
      desktops: [{ label: 'lena', name: LEAD, password: LEAD_PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
    });
    const [lenaFile = '', adminFile = ''] = files;
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.setLead(netId, OTHER, true, await admin.team.memberRevision(netId, OTHER));
    await admin.team.setLead(netId, LEAD, false, await admin.team.memberRevision(netId, LEAD));
    const out = await admin.replica.outgoing();
    await admin.close();

    const lena = await Vault.open(lenaFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lena.team.setLead(netId, MEMBER, true, await lena.team.memberRevision(netId, MEMBER));
    const taken = await lena.replica.apply(wire(out), { hold: true, caughtUp: true });
    const again = await lena.replica.outgoing();
    await lena.close();
    expect(taken.held).toEqual([]);
    expect(again.batch.records.filter((r) => r.kind === 'member')).toEqual([]);
  });
});
