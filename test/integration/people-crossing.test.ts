/**
 * A record of a person from elsewhere crossing a change of them made here and not yet sent
 * (review round ten hole 2, electron/vault/replica-people-in.ts takeUser), between real vault
 * files exchanging records as JSON, as a team server would relay them: an admin's role change
 * made on their desktop reaches the owner's, where the owner has disabled (or re-roled) the same
 * person and not synced. The owner's change is never silently undone: a field only one side
 * changed takes that side's; one both changed keeps the tighter (a disabling, a demotion); the
 * merged row goes above the record's revision and is sent again, and the crossing is audited and
 * reported. The same for a member record making someone a lead crossing an unsent unmaking of
 * them. Must never: count a check that cannot fail (each case names both sides' values).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, LEAD, LEAD_PASSWORD, MEMBER, newPeopleWorld, OWNER, PASSWORD, userState, wire } from '../support/people-world';

async function setUp() {
  const { clock, files } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
    members: [MEMBER],
    desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
  });
  const [ownerFile = '', adminFile = ''] = files;
  return { clock, ownerFile, adminFile };
}

/** The admin's change of mo, made on their desktop and handed over as its records. */
async function adminSets(file: string, clock: Parameters<typeof Vault.open>[1], role: string) {
  const admin = await Vault.open(file, clock).signIn(ADMIN, ADMIN_PASSWORD);
  await admin.team.changeRole(MEMBER, role, await admin.team.userRevision(MEMBER));
  const out = await admin.replica.outgoing();
  await admin.close();
  const record = out.batch.records.find((r) => r.kind === 'user' && r.name === MEMBER);
  if (record?.kind !== 'user') throw new Error('the admin sent no record of mo');
  return { out, revision: record.revision };
}

/** The owner's next batch's record of mo: what goes to the server (role, disabled, revision). */
function sentOfMember(records: readonly { readonly kind: string }[]) {
  return records.flatMap((r) => (r.kind === 'user' && 'name' in r && r.name === MEMBER && 'role' in r && 'disabledAt' in r && 'revision' in r
    ? [{ role: r.role, disabled: r.disabledAt !== null, revision: r.revision as number }] : []));
}

function crossedRows(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { subject: string }>("SELECT subject FROM audit_log WHERE action = 'user.crossed' ORDER BY id").all().map((r) => r.subject);
  } finally {
    db.close();
  }
}

function groupUid(file: string, groupId: number): string | undefined {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare<[number], { uid: Buffer }>('SELECT uid FROM access_groups WHERE id = ?').get(groupId);
    return row === undefined ? undefined : uidText(row.uid);
  } finally {
    db.close();
  }
}

describe('a user record crossing an unsent change of the same person', () => {
  it("an admin's promotion from another desktop keeps the owner's unsent disabling, and takes the role", async () => {
    const { clock, ownerFile, adminFile } = await setUp();
    const { out, revision } = await adminSets(adminFile, clock, 'team_lead');
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.disableUser(MEMBER, await owner.team.userRevision(MEMBER));
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    expect(taken.held).toEqual([]);
    expect(userState(ownerFile, MEMBER)).toEqual({ role: 'team_lead', disabled: true });
    expect(taken.crossed.map((c) => c.user)).toEqual([MEMBER]);
    expect(taken.crossed[0]?.detail).toContain('disabled here: kept');
    const next = sentOfMember((await owner.replica.outgoing()).batch.records);
    await owner.close();
    expect(next).toHaveLength(1);
    expect(next[0]).toMatchObject({ role: 'team_lead', disabled: true });
    expect(next[0]?.revision).toBeGreaterThan(revision);
    expect(crossedRows(ownerFile)).toEqual([MEMBER]);
  });

  it('both changed the role: the demotion wins on either side, and says so', async () => {
    // The owner demotes here, the admin promotes there: the owner's codes_only kept and sent again.
    const first = await setUp();
    const promote = await adminSets(first.adminFile, first.clock, 'team_lead');
    const owner = await Vault.open(first.ownerFile, first.clock).signIn(OWNER, PASSWORD);
    await owner.team.changeRole(MEMBER, 'codes_only', await owner.team.userRevision(MEMBER));
    const kept = await owner.replica.apply(wire(promote.out), { hold: true, caughtUp: true });
    expect(userState(first.ownerFile, MEMBER)).toEqual({ role: 'codes_only', disabled: false });
    expect(kept.crossed[0]?.detail).toContain('both changed the role: codes_only set here kept over team_lead');
    const again = sentOfMember((await owner.replica.outgoing()).batch.records);
    await owner.close();
    expect(again[0]).toMatchObject({ role: 'codes_only', disabled: false });
    expect(again[0]?.revision).toBeGreaterThan(promote.revision);

    // The owner promotes here, the admin demotes there: the admin's codes_only taken over the promotion.
    const second = await setUp();
    const demote = await adminSets(second.adminFile, second.clock, 'codes_only');
    const owner2 = await Vault.open(second.ownerFile, second.clock).signIn(OWNER, PASSWORD);
    await owner2.team.changeRole(MEMBER, 'team_lead', await owner2.team.userRevision(MEMBER));
    const taken = await owner2.replica.apply(wire(demote.out), { hold: true, caughtUp: true });
    await owner2.close();
    expect(userState(second.ownerFile, MEMBER)).toEqual({ role: 'codes_only', disabled: false });
    expect(taken.crossed[0]?.detail).toContain('both changed the role: codes_only from elsewhere taken over team_lead');
  });

  it('a record that changes nothing the owner changed is taken as before, with no crossing told', async () => {
    const { clock, ownerFile, adminFile } = await setUp();
    const { out } = await adminSets(adminFile, clock, 'codes_only');
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    await owner.close();
    expect(userState(ownerFile, MEMBER)).toEqual({ role: 'codes_only', disabled: false });
    expect(taken.crossed).toEqual([]);
    expect(crossedRows(ownerFile)).toEqual([]);
  });

  it("a member record making mo a lead again keeps the owner's unsent unmaking of him, and sends it again", async () => {
    const { clock, files, netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
      // mo leads Network beside lena on every copy (agreed there).
      beforeCopies: async (file, c, groupId) => {
        const lena = await Vault.open(file, c).signIn(LEAD, LEAD_PASSWORD);
        await lena.team.setLead(groupId, MEMBER, true, await lena.team.memberRevision(groupId, MEMBER));
        await lena.close();
      },
    });
    const [ownerFile = '', adminFile = ''] = files;
    // The admin unmakes and makes mo a lead again: one member record, mo a lead, two revisions on.
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.setLead(netId, MEMBER, false, await admin.team.memberRevision(netId, MEMBER));
    await admin.team.setLead(netId, MEMBER, true, await admin.team.memberRevision(netId, MEMBER));
    const out = await admin.replica.outgoing();
    await admin.close();
    // A copied file sends every membership until its first push: mo's by his global id.
    const mo = out.batch.records.find((r) => r.kind === 'user' && r.name === MEMBER)?.id;
    const net = groupUid(adminFile, netId);
    const theirs = out.batch.records.flatMap((r) => (r.kind === 'member' && r.user === mo && r.group === net && !r.revoked ? [{ lead: r.lead, revision: r.revision }] : []));
    expect(theirs).toEqual([{ lead: true, revision: expect.any(Number) as number }]);

    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.setLead(netId, MEMBER, false, await owner.team.memberRevision(netId, MEMBER));
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    expect(taken.held).toEqual([]);
    expect((await owner.team.members(netId)).filter((m) => m.lead).map((m) => m.name)).toEqual([LEAD]);
    expect(taken.crossed.map((c) => c.user)).toEqual([MEMBER]);
    const again = (await owner.replica.outgoing()).batch.records.flatMap((r) => (r.kind === 'member' && r.user === mo && r.group === net && !r.revoked ? [{ lead: r.lead, revision: r.revision }] : []));
    await owner.close();
    expect(again).toEqual([{ lead: false, revision: expect.any(Number) as number }]);
    expect(again[0]?.revision).toBeGreaterThan(theirs[0]?.revision ?? Infinity);
    expect(crossedRows(ownerFile)).toEqual([MEMBER]);
  });
});
