/**
 * Review six, hole 4 (#15): two rotations of one group to the same key version (two managers
 * revoking different members on their own desktops before either synced). The desktop whose own
 * rotation was never sent gives way: it takes the other side's key in (its entries re-sealed
 * under it, those only its rotation touched taking the other side's versions, a real unsent edit
 * kept and sent), then makes its own revoke again at the next version. Both sides end on one key,
 * with no conflict copy, and both revoked members cut off. Direct exchange between desktops (the
 * reviewer's proof, its ending at N+2); team-membership.test.ts does it through a real server.
 * Must never: pass while a desktop stays on a key the other side does not hold.
 */
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { LEAD, LEAD_PASSWORD, MEMBER, MEMBER_PASSWORD, newPeopleWorld, OWNER, PASSWORD, wire } from '../support/people-world';

describe('review six hole 4: two rotations to the same key version', () => {
  it('the desktop whose rotation was unsent gives way, rotates again past it, and both end on one key', async () => {
    const { clock, files: [leadFile = '', ownerFile = '', moFile = ''], netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician', password: MEMBER_PASSWORD }, { name: 'oz', role: 'technician' }, { name: 'pia', role: 'technician' }],
      members: [MEMBER, 'oz', 'pia'],
      desktops: [{ label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'owner', name: OWNER, password: PASSWORD }, { label: 'mo', name: MEMBER, password: MEMBER_PASSWORD }],
    });
    // lena revokes oz on her desktop; the owner revokes pia on theirs and edits an entry, before either has synced.
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.revoke(netId, 'oz', await lead.team.memberRevision(netId, 'oz'));
    const leads = await lead.replica.outgoing();
    await lead.replica.markSent(leads);
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const core = await owner.resolvePath('Acme/Core switch');
    await owner.updateEntry(core.id, { password: 'cs-2' }, core.revision ?? -1);
    await owner.team.revoke(netId, 'pia', await owner.team.memberRevision(netId, 'pia'));
    // The owner's desktop, its own rotation unsent, gives way to lena's and rotates again past it.
    const first = await owner.replica.apply(wire(leads), { hold: true, caughtUp: true });
    expect(first.held).toEqual([]);
    expect(first.conflictCopies).toEqual([]);
    expect((await owner.team.members(netId)).map((m) => m.name).sort()).toEqual([LEAD, MEMBER, OWNER].sort());
    expect(await owner.revealPassword(core.id)).toBe('cs-2');
    const owners = await owner.replica.outgoing();
    expect(owners.batch.records.some((r) => r.kind === 'group' && r.keyVersion === 3)).toBe(true);
    await owner.replica.markSent(owners);
    // lena takes the owner's second rotation in: one key again, the owner's edit arrives, no conflict copy.
    const took = await lead.replica.apply(wire(owners), { hold: true, caughtUp: true });
    expect(took.held).toEqual([]);
    expect(took.conflictCopies).toEqual([]);
    expect(await lead.revealPassword((await lead.resolvePath('Acme/Core switch')).id)).toBe('cs-2');
    expect((await lead.team.members(netId)).map((m) => m.name).sort()).toEqual([LEAD, MEMBER, OWNER].sort());
    await lead.createEntries([{ customer: 'Acme', title: 'Edge router', password: 'er-1', groupId: netId }]);
    const leadsNext = await lead.replica.outgoing();
    await lead.close();
    const next = await owner.replica.apply(wire(leadsNext), { hold: true, caughtUp: true });
    expect(next.held).toEqual([]);
    expect(next.conflictCopies).toEqual([]);
    expect(await owner.revealPassword((await owner.resolvePath('Acme/Edge router')).id)).toBe('er-1');
    await owner.close();
    // mo takes both in and opens what each side sealed.
    const mo = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    for (const out of [leads, owners, leadsNext]) expect((await mo.replica.apply(wire(out), { hold: true, caughtUp: true })).held).toEqual([]);
    await mo.close();
    const again = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    expect(await again.revealPassword((await again.resolvePath('Acme/Core switch')).id)).toBe('cs-2');
    expect(await again.revealPassword((await again.resolvePath('Acme/Edge router')).id)).toBe('er-1');
    await again.close();
  });
});
