/**
 * Hostile review of grantedUnderOwnRotation (electron/vault/replica-people-in.ts), between real vault files exchanging
 * records as JSON, as a team server would relay them: a grant from elsewhere taken in under a rotation waiting unsent
 * here must give the new key only as this desktop's own rules would. The secret key not to someone this desktop demoted
 * (not sent) to a role that may not hold it; nothing on the word of a lead this desktop's change removes; and a grant
 * met after this person's own unmaking in the same batch (their rotation giving way to the version held) stands here.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import type { Outgoing } from '../../electron/vault/replica-service';
import { userUidIn } from '../support/revoke-first';
import { groupUidIn } from '../support/team-desktops';
import { grantTakenUnderOwnersChange } from '../support/grant-under-rotation';
import { ADMIN, ADMIN_PASSWORD, groupVersion, LEAD, LEAD_PASSWORD, MEMBER, newPeopleWorld, OTHER, OWNER, PASSWORD, wire } from '../support/people-world';

const PAT = 'pat';

/** Who holds a wrap of group `groupId` in `file`, and at which version, by name. */
function wrappedIn(file: string, groupId: number): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT u.name AS name, gk.key_version AS v FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? ORDER BY u.name').all(groupId) as Array<{ name: string; v: number }>;
    return rows.map((r) => `${r.name}@${r.v}`);
  } finally {
    db.close();
  }
}

/** The member records of `out` of group `group` for user `uid` (global ids): key version, revoked, whether a secret key is wrapped. */
function recordsOf(out: Outgoing, group: string, uid: string): Array<{ keyVersion: number; revoked: boolean; secret: boolean }> {
  return out.batch.records.flatMap((r) => (r.kind === 'member' && r.group === group && r.user === uid ? [{ keyVersion: r.keyVersion, revoked: r.revoked, secret: r.wrappedSecretKey !== null }] : []));
}

describe('a grant from elsewhere under a rotation waiting here, reviewed', () => {
  it('gives no secret key to someone demoted here, not sent, to a role that holds none', async () => {
    const world = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'lead', name: LEAD, password: LEAD_PASSWORD }],
    });
    const { netId } = world;
    // The owner revokes mo and makes oz an auditor (no secret keys), offline; the lead, holding oz a technician still,
    // grants him Network with its secret key.
    const { grant, rotation, ozUid, group } = await grantTakenUnderOwnersChange(world, async (owner) => {
      await owner.team.revoke(netId, MEMBER, await owner.team.memberRevision(netId, MEMBER));
      await owner.team.changeRole(OTHER, 'auditor', await owner.team.userRevision(OTHER));
    });
    expect(recordsOf(grant, group, ozUid)).toEqual([{ keyVersion: 1, revoked: false, secret: true }]);
    // Carried, the list key only: the demotion the rotation goes with takes the secret key from him.
    expect(recordsOf(rotation, group, ozUid)).toEqual([{ keyVersion: 2, revoked: false, secret: false }]);
  });

  it('gives no secret key of a server-codes group to someone demoted here, not sent, to codes-only', async () => {
    const world = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'lead', name: LEAD, password: LEAD_PASSWORD }],
      beforeCopies: async (file, clock, groupId) => {
        const s = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
        await s.team.setServerCodes(groupId, true, await s.team.groupRevision(groupId));
        await s.close();
      },
    });
    const { netId } = world;
    const { grant, rotation, ozUid, group } = await grantTakenUnderOwnersChange(world, async (owner) => {
      await owner.team.revoke(netId, MEMBER, await owner.team.memberRevision(netId, MEMBER));
      await owner.team.changeRole(OTHER, 'codes_only', await owner.team.userRevision(OTHER));
    });
    const held = groupVersion(world.files[0] ?? '', netId) ?? 0;
    expect(recordsOf(grant, group, ozUid)).toEqual([{ keyVersion: held - 1, revoked: false, secret: true }]);
    expect(recordsOf(rotation, group, ozUid)).toEqual([{ keyVersion: held, revoked: false, secret: false }]);
  });

  it('gives nothing on the word of a lead this desktop removed, told, their grantee\'s removal sent', async () => {
    const world = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }, { name: PAT, role: 'team_lead' }],
      members: [MEMBER, PAT],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'lead', name: LEAD, password: LEAD_PASSWORD }],
    });
    const { netId } = world;
    // The owner makes pat a lead, then revokes mo and lena, offline: one key change past both waits. Lena, not yet told,
    // grants oz Network at the version the server holds.
    const { taken, rotation, members, ozUid, group } = await grantTakenUnderOwnersChange(world, async (owner) => {
      await owner.team.setLead(netId, PAT, true, await owner.team.memberRevision(netId, PAT));
      await owner.team.revoke(netId, MEMBER, await owner.team.memberRevision(netId, MEMBER));
      await owner.team.revoke(netId, LEAD, await owner.team.memberRevision(netId, LEAD));
    });
    const version = groupVersion(world.files[0] ?? '', netId) ?? 0;
    expect({ members, held: taken.held, told: taken.crossed.map((c) => c.user) }).toEqual({ members: [OWNER, PAT].sort(), held: [], told: [OTHER] });
    expect(taken.crossed[0]?.detail).toMatch(/granted by lena, whom a change made here not yet sent stops managing the group\): the grant dropped, their removal sent/);
    // Signed at the version the server holds, ahead of the rotation (replica-people.ts agreedVersion).
    expect({ version, removal: recordsOf(rotation, group, ozUid) }).toEqual({ version: 3, removal: [{ keyVersion: 1, revoked: true, secret: false }] });
  });

  it('gives the member this desktop revokes nothing for a change of theirs made elsewhere before the revoke landed', async () => {
    const { clock, files, netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'lead', name: LEAD, password: LEAD_PASSWORD }],
    });
    const [ownerFile = '', leadFile = ''] = files;
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.revoke(netId, MEMBER, await owner.team.memberRevision(netId, MEMBER));
    await owner.close();
    // The lead, not yet told, makes mo a lead and unmakes him: his membership's record two revisions up, at the version held.
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.setLead(netId, MEMBER, true, await lead.team.memberRevision(netId, MEMBER));
    await lead.team.setLead(netId, MEMBER, false, await lead.team.memberRevision(netId, MEMBER));
    const changed = await lead.replica.outgoing();
    await lead.close();

    const again = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const moUid = userUidIn(ownerFile, MEMBER);
    const taken = await again.replica.apply(wire(changed), { hold: true, caughtUp: true });
    const rotation = await again.replica.outgoing();
    await again.close();
    const group = groupUidIn(ownerFile, netId);
    const lifted = changed.batch.records.flatMap((r) => (r.kind === 'member' && r.group === group && r.user === moUid ? [r.revision] : []));
    const revoke = rotation.batch.records.flatMap((r) => (r.kind === 'member' && r.group === group && r.user === moUid ? [{ revoked: r.revoked, above: r.revision > Math.max(...lifted) }] : []));
    // The revoke, the later decision, goes above his record; no wrap of the new key is his.
    expect({ crossed: taken.crossed, revoke }).toEqual({ crossed: [], revoke: [{ revoked: true, above: true }] });
  });

  it('tells a grant by an admin this desktop demoted, not sent, and sends the grantee\'s removal: not set aside', async () => {
    const world = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
      members: [MEMBER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
    });
    const { netId } = world;
    const { taken, rotation, ozUid, group } = await grantTakenUnderOwnersChange(world, async (owner) => {
      await owner.team.revoke(netId, MEMBER, await owner.team.memberRevision(netId, MEMBER));
      await owner.team.changeRole(ADMIN, 'technician', await owner.team.userRevision(ADMIN));
    }, { name: ADMIN, password: ADMIN_PASSWORD });
    // Set aside, the grant was dropped by the rotation unseen, and oz's desktop kept the group set aside for want of a removal.
    expect({ held: taken.held.map((h) => h.kind), told: taken.crossed.map((c) => c.user) }).toEqual({ held: [], told: [OTHER] });
    expect(taken.crossed[0]?.detail).toMatch(/granted by ada, whom a change made here not yet sent stops managing the group/);
    expect(recordsOf(rotation, group, ozUid)).toEqual([{ keyVersion: 1, revoked: true, secret: false }]);
  });

  it('keeps a grant met after this person\'s own unmaking in the batch: their rotation gives way, the grant stands', async () => {
    const { clock, files, netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }, { name: PAT, role: 'team_lead' }],
      members: [MEMBER, PAT],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'lead', name: LEAD, password: LEAD_PASSWORD }],
    });
    const [ownerFile = '', leadFile = ''] = files;
    // Lena, Network's lead, revokes mo offline: her rotation waits.
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.revoke(netId, MEMBER, await lead.team.memberRevision(netId, MEMBER));
    await lead.close();
    // The owner makes pat a lead and unmakes her, then grants oz Network, at the version the server holds.
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.setLead(netId, PAT, true, await owner.team.memberRevision(netId, PAT));
    await owner.team.setLead(netId, LEAD, false, await owner.team.memberRevision(netId, LEAD));
    await owner.team.grant(netId, OTHER, false, await owner.team.groupRevision(netId));
    const out = await owner.replica.outgoing();
    await owner.close();
    const group = groupUidIn(ownerFile, netId);
    const lenaUid = userUidIn(ownerFile, LEAD);
    const ozUid = userUidIn(ownerFile, OTHER);
    // In the order the owner made them: the unmaking first.
    const order = (r: Outgoing['batch']['records'][number]): number => (r.kind === 'member' && r.group === group ? (r.user === lenaUid ? 1 : r.user === ozUid ? 2 : 0) : 0);
    const batch = { ...out, batch: { ...out.batch, records: [...out.batch.records].sort((x, y) => order(x) - order(y)) } };

    const again = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    const taken = await again.replica.apply(wire(batch), { hold: true, caughtUp: true });
    const next = await again.replica.outgoing();
    await again.close();
    const members = wrappedIn(leadFile, netId);
    // Given way to the version held: oz is in the group there, as on the server, and nothing is told dropped.
    expect({ version: groupVersion(leadFile, netId), members, held: taken.held, crossed: taken.crossed })
      .toEqual({ version: 1, members: [MEMBER, OTHER, OWNER, LEAD, PAT].sort().map((name) => `${name}@1`), held: [], crossed: [] });
    expect(recordsOf(next, group, ozUid)).toEqual([]);
  });
});
