/**
 * A crossing kept by a lead whose own unmaking comes later in the same batch
 * (electron/vault/replica-people-in.ts takeCrossing): lena makes mo a lead of Network on her
 * desktop and has not sent it; the admin gives mo the secret key (a role change), makes oz a lead
 * and unmakes lena, in that order. Judged before lena's own unmaking was taken in, the making was
 * kept "to be sent again" — but lena no longer manages Network, so it never goes (replica-people.ts
 * peopleRecords sends only what its person manages): this desktop showed mo a lead nobody else
 * does, and told it as sent. It is dropped and told instead. Real vault files, records as JSON.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, LEAD, LEAD_PASSWORD, MEMBER, newPeopleWorld, OTHER, wire } from '../support/people-world';

function moLeads(file: string, groupId: number): number | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[number, string], { lead: number }>('SELECT gk.is_lead AS lead FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND u.name = ?').get(groupId, MEMBER)?.lead;
  } finally {
    db.close();
  }
}

describe('a crossing kept by a lead unmade later in the same batch', () => {
  it('is dropped and told, not kept unsendable', async () => {
    const { clock, files, netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'auditor' }, { name: OTHER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
      members: [MEMBER, OTHER],
      desktops: [{ label: 'lena', name: LEAD, password: LEAD_PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
    });
    const [lenaFile = '', adminFile = ''] = files;
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.changeRole(MEMBER, 'technician', await admin.team.userRevision(MEMBER));
    await admin.team.setLead(netId, OTHER, true, await admin.team.memberRevision(netId, OTHER));
    await admin.team.setLead(netId, LEAD, false, await admin.team.memberRevision(netId, LEAD));
    const out = await admin.replica.outgoing();
    await admin.close();

    const lena = await Vault.open(lenaFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lena.team.setLead(netId, MEMBER, true, await lena.team.memberRevision(netId, MEMBER));
    const taken = await lena.replica.apply(wire(out), { hold: true, caughtUp: true });
    await lena.close();
    expect(taken.held).toEqual([]);
    // What the server holds (the admin's): mo no lead. Kept here, nobody would ever be sent it.
    expect(moLeads(lenaFile, netId)).toBe(0);
    expect(taken.crossed.map((c) => c.user)).toContain(MEMBER);
    expect(taken.crossed.find((c) => c.user === MEMBER)?.detail).toContain('dropped, as this desktop\'s person no longer manages the group to send it');
  });
});
