/**
 * Review round six's holes (#15), as tests of their fixes: what a relay (the team server, or anyone
 * between two desktops in a direct exchange) can do with people records it hands on.
 * 1. A member record's revision is kept as agreed by its id (replica-people-in.ts takeMember):
 *    lena makes lars a lead of Network and unmakes him (setLead: no rotation, same key version,
 *    the row's revision moves); the making played back to an owner's desktop changes nothing,
 *    and a rotation lars signs as lead is refused there. The reverse order (unmaking first) too.
 * 2. A user record this desktop already agrees with has its revision kept all the same (takeUser),
 *    so the earlier promote arriving after the later demote changes nothing.
 * 3. A removal is taken from a signed revoked member record only (the revoking desktop sends one,
 *    replica-people.ts noteRevoked): a rotation whose wrap for this person the relay withholds,
 *    even "caught up", is set aside and the unsent edit in the group survives; a real revoke's
 *    record removes them without the pull being at the server's head.
 * Each failed before its fix (reported by the reviewer) and passes with it.
 * Must never: sleep on time, or stand in for SQLite files, crypto or signatures.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, LEAD, LEAD_PASSWORD, MEMBER, MEMBER_PASSWORD, newPeopleWorld, OTHER, OWNER, PASSWORD, userRole, wire, wrapsOf } from '../support/people-world';
import { copyAsNewDesktop } from '../support/replica';
import { tempFolder } from '../support/vault';

async function setUp() {
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'technician', password: MEMBER_PASSWORD }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
    members: [MEMBER],
    desktops: [{ label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'mo', name: MEMBER, password: MEMBER_PASSWORD }, { label: 'owner-2', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
  });
  const [leadFile = '', moFile = '', ownerTwo = '', adminFile = ''] = files;
  return { clock, leadFile, moFile, ownerTwo, adminFile, netId };
}

const LARS = 'lars';
const LARS_PASSWORD = 'lars also leads teams';

/** As setUp, with lars (a team lead by role) a plain member of Network and a desktop of his. */
async function setUpLars() {
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'technician' }, { name: LARS, role: 'team_lead', password: LARS_PASSWORD }],
    members: [MEMBER, LARS],
    desktops: [{ label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'lars', name: LARS, password: LARS_PASSWORD }, { label: 'owner-2', name: OWNER, password: PASSWORD }],
  });
  const [leadFile = '', larsFile = '', ownerTwo = ''] = files;
  return { clock, leadFile, larsFile, ownerTwo, netId, lars: LARS };
}

describe('review six: people records played back out of order', () => {
  it('a lead made then unmade, the making played back, leaves the unmaking in force (and refuses the ex-lead\'s rotation)', async () => {
    const { clock, leadFile, ownerTwo, netId, lars } = await setUpLars();
    // lena (lead) makes lars a lead of Network, then unmakes him (no rotation: same key version).
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.setLead(netId, lars, true, await lead.team.memberRevision(netId, lars));
    const made = await lead.replica.outgoing();
    await lead.replica.markSent(made);
    await lead.close();
    // lars's desktop as it stood while he led Network (a copy of that file): he signs a revoke of mo.
    const larsFile = path.join(tempFolder(), 'desktop-lars-lead.crewvault');
    await copyAsNewDesktop(leadFile, larsFile, clock);
    const larsDesk = await Vault.open(larsFile, clock).signIn(lars, LARS_PASSWORD);
    await larsDesk.team.revoke(netId, MEMBER, await larsDesk.team.memberRevision(netId, MEMBER));
    const larsRevoke = await larsDesk.replica.outgoing();
    await larsDesk.close();
    const lead2 = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead2.team.setLead(netId, lars, false, await lead2.team.memberRevision(netId, lars));
    const unmade = await lead2.replica.outgoing();
    await lead2.close();
    const leadOf = async (s: Awaited<ReturnType<Vault['signIn']>>) => (await s.team.members(netId)).find((m) => m.name === lars)?.lead;

    const two = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    await two.replica.apply(wire(made), { hold: true, caughtUp: true });
    await two.replica.apply(wire(unmade), { hold: true, caughtUp: true });
    expect(await leadOf(two)).toBe(false);
    // The relay plays the making back: lars must stay no lead here.
    await two.replica.apply(wire(made), { hold: true, caughtUp: true });
    expect(await leadOf(two)).toBe(false);
    // ... so the rotation he signs as a lead is not taken in.
    await two.replica.apply(wire(larsRevoke), { hold: true, caughtUp: true });
    expect((await two.team.members(netId)).map((m) => m.name)).toContain(MEMBER);
    await two.close();
  });

  it('a role change played back after a later one it arrived behind changes nothing', async () => {
    const { clock, ownerTwo, adminFile } = await setUp();
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.changeRole(MEMBER, 'team_lead', await admin.team.userRevision(MEMBER));
    const promote = await admin.replica.outgoing();
    await admin.replica.markSent(promote);
    await admin.team.changeRole(MEMBER, 'technician', await admin.team.userRevision(MEMBER));
    const demote = await admin.replica.outgoing();
    await admin.close();

    const two = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    expect(userRole(ownerTwo, MEMBER)).toBe('technician');
    // The later record first (this desktop already agrees with it), then the earlier one.
    await two.replica.apply(wire(demote), { hold: true, caughtUp: true });
    await two.replica.apply(wire(promote), { hold: true, caughtUp: true });
    expect(userRole(ownerTwo, MEMBER)).toBe('technician');
    await two.close();
  });
  it('a lead made then unmade, arriving in reverse order, leaves the unmaking in force (the no-op record still moves the agreed revision)', async () => {
    const { clock, leadFile, ownerTwo, netId, lars } = await setUpLars();
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.setLead(netId, lars, true, await lead.team.memberRevision(netId, lars));
    const made = await lead.replica.outgoing();
    await lead.replica.markSent(made);
    await lead.team.setLead(netId, lars, false, await lead.team.memberRevision(netId, lars));
    const unmade = await lead.replica.outgoing();
    await lead.close();
    const two = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    const leadOf = async () => (await two.team.members(netId)).find((m) => m.name === lars)?.lead;
    // The unmaking first: this desktop already agrees (lars leads nothing here), so it changes nothing ...
    await two.replica.apply(wire(unmade), { hold: true, caughtUp: true });
    expect(await leadOf()).toBe(false);
    // ... but its revision is agreed: the older making, arriving behind it, is stale.
    await two.replica.apply(wire(made), { hold: true, caughtUp: true });
    expect(await leadOf()).toBe(false);
    await two.close();
  });
});

describe('review six: a rotation whose wrap for this person the relay withholds', () => {
  it('is not taken as their removal, and their unsent edit in the group survives', async () => {
    const { clock, files: [leadFile = '', moFile = ''], netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician', password: MEMBER_PASSWORD }, { name: OTHER, role: 'technician' }],
      members: [MEMBER, OTHER],
      desktops: [{ label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'mo', name: MEMBER, password: MEMBER_PASSWORD }],
    });

    // lena removes oz (not mo): a genuine rotation that wraps the new key for mo.
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.revoke(netId, OTHER, await lead.team.memberRevision(netId, OTHER));
    const rotation = await lead.replica.outgoing();
    await lead.close();
    const db = new Database(moFile, { readonly: true });
    const moUid = uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(MEMBER) as { uid: Buffer }).uid);
    db.close();
    expect(rotation.batch.records.filter((r) => r.kind === 'member' && r.user === moUid)).toHaveLength(1);

    // mo's desktop made an edit in Network and has not sent it yet.
    const mo = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    await mo.createEntries([{ customer: 'Acme', title: 'Edge router', password: 'er-1', groupId: netId }]);
    // The relay hands the rotation over without mo's own wrap, and says it is at its head.
    const all = wire(rotation) as { records: Array<{ kind: string; user?: string }> };
    const withoutMine = { ...all, records: all.records.filter((r) => !(r.kind === 'member' && r.user === moUid)) };
    expect(withoutMine.records.length).toBe(all.records.length - 1);
    const outcome = await mo.replica.apply(withoutMine, { hold: true, caughtUp: true });
    expect(outcome.accessRemoved).toEqual([]);
    expect((await mo.listEntries()).map((e) => e.title)).toContain('Edge router');
    await mo.close();
  });
  it('a signed revoke is a removal: the revoking desktop sends a revoked member record, and the removed desktop takes it in from that record', async () => {
    const { clock, leadFile, moFile, netId } = await setUp();
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.revoke(netId, MEMBER, await lead.team.memberRevision(netId, MEMBER));
    const rotation = await lead.replica.outgoing();
    await lead.close();
    const db = new Database(moFile, { readonly: true });
    const moUid = uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(MEMBER) as { uid: Buffer }).uid);
    db.close();
    const revoked = rotation.batch.records.filter((r) => r.kind === 'member' && r.user === moUid);
    expect(revoked.map((r) => r.kind === 'member' && r.revoked)).toEqual([true]);
    const mo = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    await mo.createEntries([{ customer: 'Acme', title: 'Edge router', password: 'er-1', groupId: netId }]);
    // Not at the server's head (caughtUp false): the signed removal alone decides.
    const outcome = await mo.replica.apply(wire(rotation), { hold: true, caughtUp: false });
    expect(outcome.accessRemoved).toEqual([{ group: 'Network', droppedEdits: 1 }]);
    expect((await mo.listEntries()).map((e) => e.title)).toEqual([]);
    await mo.close();
  });
});

describe('review six: two rotations to the same key version', () => {
  it('are refused loudly in a direct exchange once both were sent: the other side\'s group and member records set aside as two rotations, none of its wraps stored over this desktop\'s', async () => {
    const { clock, leadFile, ownerTwo, netId, lars } = await setUpLars();
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.revoke(netId, MEMBER, await lead.team.memberRevision(netId, MEMBER));
    const leads = await lead.replica.outgoing();
    await lead.close();
    const owner = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    // The owner, before either has synced, revokes lars: both move Network to the same version, with
    // two keys. The owner's rotation has left this desktop too (sent elsewhere): it cannot give way
    // (an unsent one does: review-six-concurrent-rotation.test.ts).
    await owner.team.revoke(netId, lars, await owner.team.memberRevision(netId, lars));
    await owner.replica.markSent(await owner.replica.outgoing());
    const wrapsBefore = wrapsOf(ownerTwo);
    const outcome = await owner.replica.apply(wire(leads), { hold: true, caughtUp: true });
    const kinds = outcome.held.filter((h) => h.reason.includes('two rotations at once')).map((h) => h.kind);
    expect(kinds).toContain('group');
    expect(kinds).toContain('member');
    expect(wrapsOf(ownerTwo)).toEqual(wrapsBefore);
    // This desktop still opens what it sealed under its own key.
    expect(await owner.revealPassword((await owner.resolvePath('Acme/Core switch')).id)).toBe('cs-1');
    await owner.close();
  });
});
