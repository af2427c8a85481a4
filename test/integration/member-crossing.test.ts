/**
 * A member record from elsewhere crossing a change of the same membership made on a desktop that
 * is behind and has not sent it (electron/vault/replica-people-in.ts takeCrossing), between real
 * vault files exchanging records as JSON, as a team server would relay them. The owner's desktop
 * changes mo's membership of Network (makes him a lead, unmakes him, gives him the secret key by a
 * role change) while the admin's desktop rotates the group's key or changes the same membership:
 * the owner's change is never silently undone. Kept, it goes one above the record and is sent
 * again; dropped (a removal, the tighter), it is told; either way audited as user.crossed.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { MemberRecord, ReplicaRecord } from '../../shared/sync/records';
import { uidText } from '../../electron/vault/ids';
import { Vault } from '../../electron/vault/vault';
import type { Role } from '../../shared/policy';
import { ADMIN, ADMIN_PASSWORD, LEAD, LEAD_PASSWORD, MEMBER, MEMBER_PASSWORD, newPeopleWorld, OTHER, OWNER, PASSWORD, wire } from '../support/people-world';

/**
 * mo (with `role`) and oz, members of Network; the owner's and the admin's desktops. `moLeads`: mo
 * leads it beside lena on every copy. `moDesktop`: mo has a password and a desktop of his own too.
 */
async function setUp(options: { readonly moLeads?: boolean; readonly moRole?: Role; readonly ozOutside?: boolean; readonly moDesktop?: boolean } = {}) {
  const moDesktop = options.moDesktop === true;
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: options.moRole ?? 'technician', ...(moDesktop ? { password: MEMBER_PASSWORD } : {}) }, { name: OTHER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
    members: options.ozOutside === true ? [MEMBER] : [MEMBER, OTHER],
    desktops: [
      { label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD },
      ...(moDesktop ? [{ label: 'mo', name: MEMBER, password: MEMBER_PASSWORD }] : []),
    ],
    ...(options.moLeads === true ? {
      beforeCopies: async (file: string, c: Parameters<typeof Vault.open>[1], groupId: number) => {
        const lena = await Vault.open(file, c).signIn(LEAD, LEAD_PASSWORD);
        await lena.team.setLead(groupId, MEMBER, true, await lena.team.memberRevision(groupId, MEMBER));
        await lena.close();
      },
    } : {}),
  });
  const [ownerFile = '', adminFile = '', moFile = ''] = files;
  return { clock, ownerFile, adminFile, moFile, netId };
}

function readOnly<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const crossedRows = (file: string): string[] => readOnly(file, (db) => db.prepare<[], { subject: string }>("SELECT subject FROM audit_log WHERE action = 'user.crossed' ORDER BY id").all().map((r) => r.subject));

/** mo's row in Network as the file holds it. */
const moRow = (file: string, groupId: number) => readOnly(file, (db) => db.prepare<[number, string], { key_version: number; lead: number; secret: number }>(
  'SELECT gk.key_version, gk.is_lead AS lead, gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND u.name = ?',
).get(groupId, MEMBER));

/** mo's and Network's global ids as the file holds them. */
function ids(file: string, groupId: number): { readonly mo: string; readonly net: string } {
  return readOnly(file, (db) => ({
    mo: uidText(db.prepare<[string], { uid: Buffer }>('SELECT uid FROM users WHERE name = ?').get(MEMBER)?.uid ?? Buffer.alloc(16)),
    net: uidText(db.prepare<[number], { uid: Buffer }>('SELECT uid FROM access_groups WHERE id = ?').get(groupId)?.uid ?? Buffer.alloc(16)),
  }));
}

/** The member records of mo in Network a batch carries. */
function moRecords(records: readonly ReplicaRecord[], which: { readonly mo: string; readonly net: string }) {
  return records.flatMap((r) => (r.kind === 'member' && r.user === which.mo && r.group === which.net
    ? [{ lead: r.lead, revoked: r.revoked, keyVersion: r.keyVersion, secret: r.wrappedSecretKey !== null, revision: r.revision }] : []));
}

/** mo's member record in Network a batch carries, whole. */
const moRecord = (records: readonly ReplicaRecord[], which: { readonly mo: string; readonly net: string }): MemberRecord | undefined =>
  records.find((r): r is MemberRecord => r.kind === 'member' && r.user === which.mo && r.group === which.net);

/** The file as one from before the memberships' agreed state: no row of it, nor the older one JSON of them all. */
function forgetAgreedMemberships(file: string): void {
  const db = new Database(file);
  try {
    db.prepare("DELETE FROM settings WHERE key LIKE 'replica.agreed_member%'").run();
  } finally {
    db.close();
  }
}

/** The admin's change, made on their desktop and handed over as its batch. */
async function adminDoes(file: string, clock: Parameters<typeof Vault.open>[1], change: (admin: Awaited<ReturnType<Vault['signIn']>>) => Promise<void>) {
  const admin = await Vault.open(file, clock).signIn(ADMIN, ADMIN_PASSWORD);
  await change(admin);
  const out = await admin.replica.outgoing();
  await admin.close();
  return out;
}

describe('a member record crossing an unsent change of the same membership', () => {
  it("a rotation from elsewhere keeps the owner's unsent making of mo a lead, on the new version, and sends it again", async () => {
    const { clock, ownerFile, adminFile, netId } = await setUp();
    const which = ids(ownerFile, netId);
    const out = await adminDoes(adminFile, clock, async (admin) => admin.team.revoke(netId, OTHER, await admin.team.memberRevision(netId, OTHER)));
    const theirs = moRecords(out.batch.records, which);
    expect(theirs).toEqual([{ lead: false, revoked: false, keyVersion: 2, secret: true, revision: expect.any(Number) as number }]);

    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.setLead(netId, MEMBER, true, await owner.team.memberRevision(netId, MEMBER));
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    expect(taken.held).toEqual([]);
    expect(moRow(ownerFile, netId)).toEqual({ key_version: 2, lead: 1, secret: 1 });
    expect(taken.crossed.map((c) => c.user)).toEqual([MEMBER]);
    expect(taken.crossed[0]?.detail).toContain('made a lead here: kept');
    const again = moRecords((await owner.replica.outgoing()).batch.records, which);
    await owner.close();
    expect(again).toEqual([{ lead: true, revoked: false, keyVersion: 2, secret: true, revision: expect.any(Number) as number }]);
    expect(again[0]?.revision).toBeGreaterThan(theirs[0]?.revision ?? Infinity);
    expect(crossedRows(ownerFile)).toEqual([MEMBER]);
  });

  it("a lead making kept over a rotation from elsewhere goes out on wraps the owner's desktop made, which mo's own desktop takes", async () => {
    const { clock, ownerFile, adminFile, moFile, netId } = await setUp({ moDesktop: true });
    const which = ids(ownerFile, netId);
    const ownerUid = readOnly(ownerFile, (db) => uidText(db.prepare<[string], { uid: Buffer }>('SELECT uid FROM users WHERE name = ?').get(OWNER)?.uid ?? Buffer.alloc(16)));
    const out = await adminDoes(adminFile, clock, async (admin) => admin.team.revoke(netId, OTHER, await admin.team.memberRevision(netId, OTHER)));
    const theirs = moRecord(out.batch.records, which);
    expect(theirs).toMatchObject({ lead: false, keyVersion: 2 });
    expect(theirs?.wrappedSecretKey).not.toBeNull();
    const mo = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    expect((await mo.replica.apply(wire(out), { hold: true, caughtUp: true })).held).toEqual([]);
    await mo.close();

    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.setLead(netId, MEMBER, true, await owner.team.memberRevision(netId, MEMBER));
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    expect(taken.crossed[0]?.detail).toContain('made a lead here: kept');
    const again = await owner.replica.outgoing();
    await owner.close();
    // Signed by the owner, so wrapped by the owner's desktop (as a making at that version would be), never the admin's wraps under the owner's name.
    const sent = moRecord(again.batch.records, which);
    expect(sent).toMatchObject({ lead: true, keyVersion: 2, author: ownerUid });
    expect(sent?.author).not.toBe(theirs?.author);
    expect(sent?.wrappedKey).not.toBe(theirs?.wrappedKey);
    expect(sent?.wrappedSecretKey).not.toBeNull();
    expect(sent?.wrappedSecretKey).not.toBe(theirs?.wrappedSecretKey);

    // mo's own desktop takes it: the owner's wraps open to the very keys it holds at version 2.
    const moAgain = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    const there = await moAgain.replica.apply(wire(again), { hold: true, caughtUp: true });
    await moAgain.close();
    expect(there.held).toEqual([]);
    expect(moRow(moFile, netId)).toEqual({ key_version: 2, lead: 1, secret: 1 });
  });

  it("a lead making kept over a rotation that takes the secret key from its maker's role is dropped and told: its maker cannot wrap it again", async () => {
    const codelead = ['entries.view', 'passwords.reveal', 'otp.view', 'otp.reveal_secret', 'entries.create', 'entries.edit', 'entries.delete', 'groups.manage'] as const;
    const { clock, files, netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
      members: [MEMBER],
      desktops: [{ label: 'lena', name: LEAD, password: LEAD_PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
      // Network's codes computed by the team server: there only a role that may reveal OTP keys holds its secret key.
      beforeCopies: async (file: string, c: Parameters<typeof Vault.open>[1], groupId: number) => {
        const owner = await Vault.open(file, c).signIn(OWNER, PASSWORD);
        await owner.team.defineRole('Codelead', [...codelead], await owner.team.roleRevision('Codelead'));
        await owner.team.changeRole(LEAD, 'Codelead', await owner.team.userRevision(LEAD));
        await owner.team.setServerCodes(groupId, true, await owner.team.groupRevision(groupId));
        await owner.close();
      },
    });
    const [lenaFile = '', adminFile = ''] = files;
    // The admin narrows lena's role to a codes-only lead: Network rotates, mo (a technician) keeps its secret key there, lena does not.
    const out = await adminDoes(adminFile, clock, async (admin) => { await admin.team.defineRole('Codelead', ['entries.view', 'otp.view', 'groups.manage'], await admin.team.roleRevision('Codelead')); });
    const which = ids(lenaFile, netId);
    const version = (moRecords(out.batch.records, which)[0]?.keyVersion ?? 0);
    expect(moRecords(out.batch.records, which)).toEqual([{ lead: false, revoked: false, keyVersion: version, secret: true, revision: expect.any(Number) as number }]);
    expect(version).toBeGreaterThan(moRow(lenaFile, netId)?.key_version ?? Infinity);

    const lena = await Vault.open(lenaFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lena.team.setLead(netId, MEMBER, true, await lena.team.memberRevision(netId, MEMBER));
    const taken = await lena.replica.apply(wire(out), { hold: true, caughtUp: true });
    const again = moRecords((await lena.replica.outgoing()).batch.records, which);
    await lena.close();
    expect(taken.held).toEqual([]);
    expect(moRow(lenaFile, netId)).toEqual({ key_version: version, lead: 0, secret: 1 });
    // (A copy's first push sends every membership it holds: mo's goes as taken, not a lead.)
    expect(again.filter((r) => r.lead)).toEqual([]);
    expect(taken.crossed.find((c) => c.user === MEMBER)?.detail).toContain(`made a lead here: dropped, as this desktop's person cannot wrap the group's key at version ${version} for them to send it`);
  });

  it('in a file from before the agreed state, a secret key given here by a role change and crossed by a rotation from elsewhere is dropped and told', async () => {
    const { clock, ownerFile, adminFile, netId } = await setUp({ moRole: 'auditor' });
    const out = await adminDoes(adminFile, clock, async (admin) => admin.team.revoke(netId, OTHER, await admin.team.memberRevision(netId, OTHER)));
    expect(moRecords(out.batch.records, ids(ownerFile, netId))).toEqual([{ lead: false, revoked: false, keyVersion: 2, secret: false, revision: expect.any(Number) as number }]);
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.changeRole(MEMBER, 'technician', await owner.team.userRevision(MEMBER));
    await owner.close();
    expect(moRow(ownerFile, netId)).toEqual({ key_version: 1, lead: 0, secret: 1 });
    forgetAgreedMemberships(ownerFile);

    const again = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const taken = await again.replica.apply(wire(out), { hold: true, caughtUp: true });
    await again.close();
    expect(taken.held).toEqual([]);
    // The rotation's wraps taken (no secret key at version 2): what was given here goes, and is told.
    expect(moRow(ownerFile, netId)).toEqual({ key_version: 2, lead: 0, secret: 0 });
    // (The same role change re-wrapped mo in the default group too, whose record the batch also carries: told on its own line.)
    expect(new Set(taken.crossed.map((c) => c.user))).toEqual(new Set([MEMBER]));
    expect(taken.crossed.map((c) => c.detail)).toContainEqual(expect.stringMatching(/group "Network" [^;]*; given the secret key here at key version 1: the group's key was changed elsewhere to version 2/));
    expect(crossedRows(ownerFile)).toEqual(taken.crossed.map(() => MEMBER));
  });

  it("a rotation from elsewhere keeps the owner's unsent unmaking of mo as a lead (the tighter), and sends it again", async () => {
    const { clock, ownerFile, adminFile, netId } = await setUp({ moLeads: true });
    const which = ids(ownerFile, netId);
    const out = await adminDoes(adminFile, clock, async (admin) => admin.team.revoke(netId, OTHER, await admin.team.memberRevision(netId, OTHER)));
    const theirs = moRecords(out.batch.records, which);
    expect(theirs).toEqual([{ lead: true, revoked: false, keyVersion: 2, secret: true, revision: expect.any(Number) as number }]);

    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.setLead(netId, MEMBER, false, await owner.team.memberRevision(netId, MEMBER));
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    expect(moRow(ownerFile, netId)).toEqual({ key_version: 2, lead: 0, secret: 1 });
    expect(taken.crossed[0]?.detail).toContain('unmade as a lead here: kept');
    const again = moRecords((await owner.replica.outgoing()).batch.records, which);
    await owner.close();
    expect(again).toEqual([{ lead: false, revoked: false, keyVersion: 2, secret: true, revision: expect.any(Number) as number }]);
    expect(again[0]?.revision).toBeGreaterThan(theirs[0]?.revision ?? Infinity);
    expect(crossedRows(ownerFile)).toEqual([MEMBER]);
  });

  it("a lead making from elsewhere keeps the secret key the owner's unsent role change gave mo, and takes the making", async () => {
    const { clock, ownerFile, adminFile, netId } = await setUp({ moRole: 'auditor' });
    const which = ids(ownerFile, netId);
    expect(moRow(ownerFile, netId)).toEqual({ key_version: 1, lead: 0, secret: 0 });
    const out = await adminDoes(adminFile, clock, async (admin) => { await admin.team.setLead(netId, MEMBER, true, await admin.team.memberRevision(netId, MEMBER)); });
    const theirs = moRecords(out.batch.records, which);
    expect(theirs).toEqual([{ lead: true, revoked: false, keyVersion: 1, secret: false, revision: expect.any(Number) as number }]);

    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.changeRole(MEMBER, 'technician', await owner.team.userRevision(MEMBER));
    expect(moRow(ownerFile, netId)).toEqual({ key_version: 1, lead: 0, secret: 1 });
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    expect(moRow(ownerFile, netId)).toEqual({ key_version: 1, lead: 1, secret: 1 });
    expect(taken.crossed[0]?.detail).toContain('given the secret key here: kept');
    const again = moRecords((await owner.replica.outgoing()).batch.records, which);
    await owner.close();
    expect(again).toEqual([{ lead: true, revoked: false, keyVersion: 1, secret: true, revision: expect.any(Number) as number }]);
    expect(again[0]?.revision).toBeGreaterThan(theirs[0]?.revision ?? Infinity);
  });

  it("a removal from elsewhere drops the owner's unsent making of mo a lead, and says so", async () => {
    const { clock, ownerFile, adminFile, netId } = await setUp();
    const out = await adminDoes(adminFile, clock, async (admin) => admin.team.revoke(netId, MEMBER, await admin.team.memberRevision(netId, MEMBER)));
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.setLead(netId, MEMBER, true, await owner.team.memberRevision(netId, MEMBER));
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    await owner.close();
    expect(moRow(ownerFile, netId)).toBeUndefined();
    expect(taken.crossed.map((c) => c.user)).toEqual([MEMBER]);
    expect(taken.crossed[0]?.detail).toContain('(made a lead): the removal taken, the change dropped');
    expect(crossedRows(ownerFile)).toEqual([MEMBER]);
  });

  it('two makings of mo a lead agree, with nothing told', async () => {
    const { clock, ownerFile, adminFile, netId } = await setUp();
    const which = ids(ownerFile, netId);
    const out = await adminDoes(adminFile, clock, async (admin) => { await admin.team.setLead(netId, MEMBER, true, await admin.team.memberRevision(netId, MEMBER)); });
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.setLead(netId, MEMBER, true, await owner.team.memberRevision(netId, MEMBER));
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    const again = moRecords((await owner.replica.outgoing()).batch.records, which);
    await owner.close();
    expect(moRow(ownerFile, netId)).toEqual({ key_version: 1, lead: 1, secret: 1 });
    expect(taken.crossed).toEqual([]);
    expect(again.every((r) => r.lead)).toBe(true);
    expect(crossedRows(ownerFile)).toEqual([]);
  });
  it("the admin's unsent making of mo a lead is dropped and told when the owner's demotion of the admin crosses it", async () => {
    const { clock, ownerFile, adminFile, netId } = await setUp();
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.changeRole(ADMIN, 'technician', await owner.team.userRevision(ADMIN));
    const out = await owner.replica.outgoing();
    await owner.close();
    const which = ids(ownerFile, netId);
    expect(moRecords(out.batch.records, which)).toEqual([{ lead: false, revoked: false, keyVersion: 2, secret: true, revision: expect.any(Number) as number }]);

    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.setLead(netId, MEMBER, true, await admin.team.memberRevision(netId, MEMBER));
    const taken = await admin.replica.apply(wire(out), { hold: true, caughtUp: true });
    await admin.close();
    expect(taken.held).toEqual([]);
    expect(taken.crossed.map((c) => c.user)).toContain(MEMBER);
    expect(taken.crossed.find((c) => c.user === MEMBER)?.detail).toContain('made a lead here: dropped, as this desktop\'s person no longer manages the group to send it');
    expect(crossedRows(adminFile)).toContain(MEMBER);
  });
  it("a rotation from elsewhere that wraps nothing for oz drops the owner's unsent grant of Network to oz, and says so", async () => {
    const { clock, ownerFile, adminFile, netId } = await setUp({ ozOutside: true });
    const out = await adminDoes(adminFile, clock, async (admin) => admin.team.revoke(netId, MEMBER, await admin.team.memberRevision(netId, MEMBER)));
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.grant(netId, OTHER, false, await owner.team.groupRevision(netId));
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    const members = (await owner.team.members(netId)).map((m) => m.name);
    await owner.close();
    expect(taken.held).toEqual([]);
    expect(members).not.toContain(OTHER);
    expect(taken.crossed.map((c) => c.user)).toContain(OTHER);
    expect(taken.crossed.find((c) => c.user === OTHER)?.detail).toContain('without them, crossing a change of their membership made here not yet sent (granted it): the change dropped');
    expect(crossedRows(ownerFile)).toContain(OTHER);
  });
});
