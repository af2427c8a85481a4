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
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Outgoing } from '../../electron/vault/replica-service';
import { Vault } from '../../electron/vault/vault';
import { copyAsNewDesktop } from '../support/replica';
import { FAST_KDF, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

const LEAD = 'lena';
const LEAD_PASSWORD = 'lena leads the network team';
const MEMBER = 'mo';
const MEMBER_PASSWORD = 'mo fixes the network';

function wire(out: Outgoing): unknown {
  return JSON.parse(JSON.stringify(out.batch)) as unknown;
}

describe('review six hole 4: two rotations to the same key version', () => {
  it('the desktop whose rotation was unsent gives way, rotates again past it, and both end on one key', async () => {
    const { file, session, clock } = await newVault();
    await session.createUser(LEAD, 'team_lead', 'a one-time password for lena', FAST_KDF);
    await session.createUser(MEMBER, 'technician', 'a one-time password for mo', FAST_KDF);
    await session.createUser('oz', 'technician', 'a one-time password for oz', FAST_KDF);
    await session.createUser('pia', 'technician', 'a one-time password for pia', FAST_KDF);
    await session.close();
    for (const [who, once, pw] of [[LEAD, 'a one-time password for lena', LEAD_PASSWORD], [MEMBER, 'a one-time password for mo', MEMBER_PASSWORD]] as const) {
      const s = await Vault.open(file, clock).signIn(who, once);
      await s.changePassword(once, pw, FAST_KDF);
      await s.close();
    }
    const lena = await Vault.open(file, clock).signIn(LEAD, LEAD_PASSWORD);
    const net = await lena.team.createGroup('Network');
    for (const who of [MEMBER, 'oz', 'pia']) await lena.team.grant(net.id, who);
    await lena.createEntries([{ customer: 'Acme', title: 'Core switch', password: 'cs-1', groupId: net.id }]);
    await lena.close();
    const [leadFile = '', ownerFile = '', moFile = ''] = ['lead', 'owner', 'mo'].map((name) => path.join(tempFolder(), `desktop-${name}.crewvault`));
    for (const [copy, who, pw] of [[leadFile, LEAD, LEAD_PASSWORD], [ownerFile, OWNER, PASSWORD], [moFile, MEMBER, MEMBER_PASSWORD]] as const) {
      await copyAsNewDesktop(file, copy, clock);
      const s = await Vault.open(copy, clock).signIn(who, pw);
      await s.replica.agreeAll();
      await s.close();
    }
    // lena revokes oz on her desktop; the owner revokes pia on theirs and edits an entry, before either has synced.
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.revoke(net.id, 'oz');
    const leads = await lead.replica.outgoing();
    await lead.replica.markSent(leads);
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const core = await owner.resolvePath('Acme/Core switch');
    await owner.updateEntry(core.id, { password: 'cs-2' }, core.revision);
    await owner.team.revoke(net.id, 'pia');
    // The owner's desktop, its own rotation unsent, gives way to lena's and rotates again past it.
    const first = await owner.replica.apply(wire(leads), { hold: true, caughtUp: true });
    expect(first.held).toEqual([]);
    expect(first.conflictCopies).toEqual([]);
    expect((await owner.team.members(net.id)).map((m) => m.name).sort()).toEqual([LEAD, MEMBER, OWNER].sort());
    expect(await owner.revealPassword(core.id)).toBe('cs-2');
    const owners = await owner.replica.outgoing();
    expect(owners.batch.records.some((r) => r.kind === 'group' && r.keyVersion === 3)).toBe(true);
    await owner.replica.markSent(owners);
    // lena takes the owner's second rotation in: one key again, the owner's edit arrives, no conflict copy.
    const took = await lead.replica.apply(wire(owners), { hold: true, caughtUp: true });
    expect(took.held).toEqual([]);
    expect(took.conflictCopies).toEqual([]);
    expect(await lead.revealPassword((await lead.resolvePath('Acme/Core switch')).id)).toBe('cs-2');
    expect((await lead.team.members(net.id)).map((m) => m.name).sort()).toEqual([LEAD, MEMBER, OWNER].sort());
    await lead.createEntries([{ customer: 'Acme', title: 'Edge router', password: 'er-1', groupId: net.id }]);
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
