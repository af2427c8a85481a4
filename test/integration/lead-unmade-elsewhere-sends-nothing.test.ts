/**
 * A lead unmade elsewhere sends nothing of the group as its lead: lena makes mo a lead of Network on
 * her desktop and has not sent it when the admin's unmaking of her comes in (replica-people-new.ts
 * takeOwnLead). Her desktop counts her as leading a group while the server still does (her own
 * unmaking not sent: replica-service.ts peopleSender, from the membership's agreed state); the
 * unmaking taken in is agreed too, so the making goes nowhere: sent, the server refuses the whole
 * push (she no longer manages Network), and every push after it. Nor is it kept unsendable: no
 * record of mo comes with the unmaking (or with her demotion), so nothing crossed the making, and
 * it stayed on her desktop for good, shown as made and never sent nor told (a grant of hers to pia
 * likewise). It is dropped and told,
 * as member-crossing-unled-after does when a record of mo comes (replica-people-in.ts
 * dropUnsendable). Real vault files, records as JSON.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { ReplicaRecord } from '../../shared/sync/records';
import { uidText } from '../../electron/vault/ids';
import type { VaultSession } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, LEAD, LEAD_PASSWORD, MEMBER, newPeopleWorld, OTHER, wire } from '../support/people-world';

function leads(file: string, groupId: number, name = MEMBER): number | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[number, string], { lead: number }>('SELECT gk.is_lead AS lead FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND u.name = ?').get(groupId, name)?.lead;
  } finally {
    db.close();
  }
}

function uidOf(file: string, name: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText(db.prepare<[string], { uid: Buffer }>('SELECT uid FROM users WHERE name = ?').get(name)?.uid ?? Buffer.alloc(16));
  } finally {
    db.close();
  }
}

/** Someone outside Network, whom lena may grant it. */
const OUTSIDER = 'pia';

/**
 * lena's unsent change in Network (by default, making mo a lead), crossed by what the admin does to
 * her, handed over as a pull would: with no member record of mo or pia in it.
 */
async function lenaChangesAndAdmin(does: (admin: VaultSession, netId: number) => Promise<unknown>, lenaDoes?: (lena: VaultSession, netId: number) => Promise<unknown>) {
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }, { name: OUTSIDER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
    members: [MEMBER, OTHER],
    desktops: [{ label: 'lena', name: LEAD, password: LEAD_PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
  });
  const [lenaFile = '', adminFile = ''] = files;
  const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
  await does(admin, netId);
  const out = await admin.replica.outgoing();
  await admin.close();

  const lena = await Vault.open(lenaFile, clock).signIn(LEAD, LEAD_PASSWORD);
  if (lenaDoes) await lenaDoes(lena, netId);
  else await lena.team.setLead(netId, MEMBER, true, await lena.team.memberRevision(netId, MEMBER));
  const left = [uidOf(lenaFile, MEMBER), uidOf(lenaFile, OUTSIDER)];
  // As a pull hands it: only what changed (the admin's copy sends every membership it holds; mo's did not change there).
  const batch = wire(out) as { records: ReplicaRecord[] };
  const pulled = { ...batch, records: batch.records.filter((r) => !(r.kind === 'member' && left.includes(r.user))) };
  expect(pulled.records.length).toBeLessThan(batch.records.length);
  const taken = await lena.replica.apply(pulled, { hold: true, caughtUp: true });
  const again = await lena.replica.outgoing();
  await lena.close();
  return { lenaFile, netId, out, taken, again };
}

describe('a lead unmade elsewhere', () => {
  it('sends no member record of the group it no longer leads, and drops and tells its unsent making', async () => {
    const { lenaFile, netId, taken, again } = await lenaChangesAndAdmin(async (admin, netId) => {
      await admin.team.setLead(netId, OTHER, true, await admin.team.memberRevision(netId, OTHER));
      await admin.team.setLead(netId, LEAD, false, await admin.team.memberRevision(netId, LEAD));
    });
    expect(taken.held).toEqual([]);
    expect(again.batch.records.filter((r) => r.kind === 'member')).toEqual([]);
    // What the server holds: mo no lead. Kept here, nobody would ever be sent it, nor told.
    expect(leads(lenaFile, netId)).toBe(0);
    expect(taken.crossed.map((c) => c.user)).toContain(MEMBER);
    expect(taken.crossed.find((c) => c.user === MEMBER)?.detail).toContain('made a lead here: dropped, as this desktop\'s person no longer manages the group to send it');
  });

  it('drops and tells its unsent grant of the group', async () => {
    const { lenaFile, netId, taken, again } = await lenaChangesAndAdmin(async (admin, netId) => {
      await admin.team.setLead(netId, OTHER, true, await admin.team.memberRevision(netId, OTHER));
      await admin.team.setLead(netId, LEAD, false, await admin.team.memberRevision(netId, LEAD));
    }, async (lena, netId) => lena.team.grant(netId, OUTSIDER, false, await lena.team.groupRevision(netId)));
    expect(taken.held).toEqual([]);
    expect(again.batch.records.filter((r) => r.kind === 'member')).toEqual([]);
    expect(leads(lenaFile, netId, OUTSIDER)).toBeUndefined();
    expect(taken.crossed.find((c) => c.user === OUTSIDER)?.detail).toContain('granted it here: dropped, as this desktop\'s person no longer manages the group to send it');
  });

  it('demoted elsewhere to a role that manages no group, drops and tells its unsent making', async () => {
    const { lenaFile, netId, out, taken, again } = await lenaChangesAndAdmin(async (admin, netId) => {
      await admin.team.setLead(netId, OTHER, true, await admin.team.memberRevision(netId, OTHER));
      await admin.team.changeRole(LEAD, 'technician', await admin.team.userRevision(LEAD));
    });
    expect(out.batch.records.filter((r) => r.kind === 'user').length).toBeGreaterThan(0);
    expect(taken.held).toEqual([]);
    expect(again.batch.records.filter((r) => r.kind === 'member')).toEqual([]);
    expect(leads(lenaFile, netId)).toBe(0);
    expect(taken.crossed.find((c) => c.user === MEMBER)?.detail).toContain('made a lead here: dropped, as this desktop\'s person no longer manages the group to send it');
  });
});
