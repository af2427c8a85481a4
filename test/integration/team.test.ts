// Access groups and users through the service, on real files and real keys: membership
// decides what opens, revoking rotates the key, moving re-seals, and every change is audited.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { open as openSealed } from '../../electron/vault/crypto';
import { contexts } from '../../electron/vault/keys';
import { Vault } from '../../electron/vault/vault';
import { parseOtpUri } from '../../shared/otp';
import { FAST_KDF, manualClock, newVault, OWNER } from '../support/vault';

const TOTP = parseOtpUri('otpauth://totp/Acme:ops?secret=JBSWY3DPEHPK3PXP&issuer=Acme');

async function team() {
  const clock = manualClock();
  const { file, session: owner } = await newVault(clock);
  await owner.createUser('lena', 'team_lead', 'lead password', FAST_KDF);
  await owner.createUser('tom', 'technician', 'tech password', FAST_KDF);
  await owner.createUser('cody', 'codes_only', 'codes password', FAST_KDF);
  const vault = Vault.open(file, clock);
  const signIn = (name: string, password: string) => vault.signIn(name, password);
  return { file, clock, owner, vault, signIn };
}

/** The raw group key a user can unwrap with everything their own password unlocks. */
function groupKeysOf(file: string, groupId: number): Array<{ user_id: number; key_version: number }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[number], { user_id: number; key_version: number }>('SELECT user_id, key_version FROM group_keys WHERE group_id = ? ORDER BY user_id').all(groupId);
  } finally {
    db.close();
  }
}

/** The keys a session holds (a private field: the test plays a member who kept them). */
function ringOf(session: unknown): { groups: Map<number, { key: Buffer }>; directoryKey: Buffer } {
  return (session as { ring: { groups: Map<number, { key: Buffer }>; directoryKey: Buffer } }).ring;
}

function rowOf(file: string, entryId: number): { id: number; uid: Buffer; sealed_details: Buffer; key_version: number } {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare<[number], { id: number; uid: Buffer; sealed_details: Buffer; key_version: number }>('SELECT id, uid, sealed_details, key_version FROM entries WHERE id = ?').get(entryId);
    if (!row) throw new Error(`no entry ${entryId}`);
    return row;
  } finally {
    db.close();
  }
}

describe('access groups', () => {
  it('a team lead creates a group, grants a technician, who then sees and reveals its entries', async () => {
    const { owner, signIn } = await team();
    const lead = await signIn('lena', 'lead password');
    const group = await lead.team.createGroup('Acme team');
    expect(group).toMatchObject({ name: 'Acme team', lead: true, entries: 0 });
    const entry = await lead.createEntry({ customer: 'Acme', title: 'VPN', password: 'acme-pass', otp: TOTP, groupId: group.id });

    const tech = await signIn('tom', 'tech password');
    expect((await tech.listEntries()).map((e) => e.title)).toEqual([]);
    await expect(tech.getEntry(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));

    await lead.team.grant(group.id, 'tom', false, await lead.team.groupRevision(group.id));
    const tech2 = await signIn('tom', 'tech password');
    expect((await tech2.listEntries()).map((e) => e.title)).toEqual(['VPN']);
    expect(await tech2.revealPassword(entry.id)).toBe('acme-pass');
    // The owner holds every group's key, the lead's group included (picked up without signing in again).
    expect((await owner.team.listGroups()).map((g) => g.name)).toEqual(['Acme team', 'Default']);
  });

  it('revoking rotates the key: the removed member keeps nothing that opens what is written after', async () => {
    const { file, owner, signIn } = await team();
    const group = await owner.team.createGroup('Beta team');
    await owner.team.grant(group.id, 'tom', false, await owner.team.groupRevision(group.id));
    const entry = await owner.createEntry({ customer: 'Beta', title: 'Mail', password: 'before', groupId: group.id });
    const tech = await signIn('tom', 'tech password');
    expect(await tech.revealPassword(entry.id)).toBe('before');
    // Everything Tom's password unlocked, copied away before he is removed: the version-1 key.
    const stolen = Buffer.from(ringOf(tech).groups.get(group.id)?.key ?? Buffer.alloc(0));
    expect(groupKeysOf(file, group.id).find((k) => k.user_id === tech.user.id)?.key_version).toBe(1);

    await owner.team.revoke(group.id, 'tom', await owner.team.memberRevision(group.id, 'tom'));
    await owner.updateEntry(entry.id, { password: 'after' }, (await owner.getEntry(entry.id)).revision);
    expect(groupKeysOf(file, group.id).map((k) => k.key_version)).toEqual([2]); // only the owner, on version 2
    const techAgain = await signIn('tom', 'tech password');
    expect(await techAgain.listEntries()).toEqual([]);
    await expect(techAgain.revealPassword(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    // His still-open session drops the group at once; his copied key opens nothing written after.
    await expect(tech.revealPassword(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    const row = rowOf(file, entry.id);
    for (const version of [1, 2]) {
      expect(() => openSealed(stolen, row.sealed_details, contexts.entryDetails(row, version))).toThrow(expect.objectContaining({ code: 'VAULT_TAMPERED' }));
    }
    expect(await owner.revealPassword(entry.id)).toBe('after');
    expect((await owner.resolvePath('Beta/Mail')).id).toBe(entry.id);
    expect((await owner.listEntries()).map((e) => e.title)).toEqual(['Mail']);
  });

  it('a non-member cannot open a group\'s entries with everything their own password unlocks', async () => {
    const { file, owner, signIn } = await team();
    const group = await owner.team.createGroup('Secret team');
    const entry = await owner.createEntry({ customer: 'Gamma', title: 'Root', password: 'gamma-root', groupId: group.id });
    const tech = await signIn('tom', 'tech password');
    expect(groupKeysOf(file, group.id).some((k) => k.user_id === tech.user.id)).toBe(false);
    // Tom's own keys: try every key his session holds against the sealed row.
    const row = rowOf(file, entry.id);
    const ring = ringOf(tech);
    for (const key of [ring.directoryKey, ...[...ring.groups.values()].map((g) => g.key)]) {
      expect(() => openSealed(key, row.sealed_details, contexts.entryDetails(row, row.key_version))).toThrow(expect.objectContaining({ code: 'VAULT_TAMPERED' }));
    }
  });

  it('moving an entry re-seals it under the target group\'s key', async () => {
    const { owner, signIn } = await team();
    const group = await owner.team.createGroup('Delta team');
    await owner.team.grant(group.id, 'tom', false, await owner.team.groupRevision(group.id));
    const entry = await owner.createEntry({ customer: 'Delta', title: 'Firewall', password: 'delta-fw' });
    const lead = await signIn('lena', 'lead password');
    expect(await lead.revealPassword(entry.id)).toBe('delta-fw'); // the default group: Lena is in it
    await owner.team.moveEntry(entry.id, group.id, (await owner.getEntry(entry.id)).revision);
    const tech = await signIn('tom', 'tech password');
    expect(await tech.revealPassword(entry.id)).toBe('delta-fw');
    const leadAgain = await signIn('lena', 'lead password');
    await expect(leadAgain.revealPassword(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect((await owner.getEntry(entry.id)).groupId).toBe(group.id);
  });

  it('a team lead manages only the groups they lead; a technician manages none', async () => {
    const { owner, signIn } = await team();
    const ownersGroup = await owner.team.createGroup('Owners only');
    const lead = await signIn('lena', 'lead password');
    const mine = await lead.team.createGroup('Lena team');
    await expect(lead.team.grant(ownersGroup.id, 'tom', false, await lead.team.groupRevision(ownersGroup.id))).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await lead.team.grant(mine.id, 'tom', false, await lead.team.groupRevision(mine.id));
    const tech = await signIn('tom', 'tech password');
    await expect(tech.team.createGroup('Mine')).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await expect(tech.team.revoke(mine.id, 'tom', await tech.team.memberRevision(mine.id, 'tom'))).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await expect(lead.team.revoke(mine.id, OWNER, await lead.team.memberRevision(mine.id, OWNER))).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });
});

describe('users', () => {
  it('disabling ends access and rotates the groups the user held', async () => {
    const { file, owner, signIn } = await team();
    const group = await owner.team.createGroup('Epsilon');
    await owner.team.grant(group.id, 'tom', false, await owner.team.groupRevision(group.id));
    const tomSession = await signIn('tom', 'tech password');
    await owner.team.disableUser('tom', await owner.team.userRevision('tom'));
    await expect(signIn('tom', 'tech password')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    await expect(tomSession.listEntries()).rejects.toThrow(expect.objectContaining({ code: 'LOCKED' }));
    expect(groupKeysOf(file, group.id).map((k) => k.key_version)).toEqual([2]);
    expect((await owner.team.listUsers()).find((u) => u.name === 'tom')?.disabled).toBe(true);
    await expect(owner.team.disableUser(OWNER, await owner.team.userRevision(OWNER))).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it('changing a role changes what the router-facing checks allow; an admin gets every group key', async () => {
    const { owner, signIn } = await team();
    const group = await owner.team.createGroup('Zeta');
    const entry = await owner.createEntry({ customer: 'Zeta', title: 'DB', password: 'zeta-db', groupId: group.id });
    await owner.team.changeRole('tom', 'admin', await owner.team.userRevision('tom'));
    const admin = await signIn('tom', 'tech password');
    expect(await admin.revealPassword(entry.id)).toBe('zeta-db');
    await owner.team.changeRole('tom', 'auditor', await owner.team.userRevision('tom'));
    const auditor = await signIn('tom', 'tech password');
    await expect(auditor.revealPassword(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await expect(owner.team.changeRole(OWNER, 'technician', await owner.team.userRevision(OWNER))).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' })); // the last owner
    // Tom's session from when he was an admin now answers as the auditor he is.
    await expect(admin.team.changeRole('lena', 'owner', await admin.team.userRevision('lena'))).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(admin.user.role).toBe('auditor');
  });

  it('an owner restores a user who forgot their password: new keys, same groups, audited', async () => {
    const { owner, signIn } = await team();
    const group = await owner.team.createGroup('Eta');
    await owner.team.grant(group.id, 'tom', false, await owner.team.groupRevision(group.id));
    const entry = await owner.createEntry({ customer: 'Eta', title: 'NAS', password: 'eta-nas', groupId: group.id });
    await owner.team.resetPassword('tom', 'one-time password 42', await owner.team.userRevision('tom'), FAST_KDF);
    await expect(signIn('tom', 'tech password')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    const tech = await signIn('tom', 'one-time password 42');
    expect(await tech.revealPassword(entry.id)).toBe('eta-nas');
    const actions = (await owner.auditLog()).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['group.create', 'group.grant', 'user.reset_password']));
    const lead = await signIn('lena', 'lead password');
    await expect(lead.team.resetPassword('tom', 'another password 1', await lead.team.userRevision('tom'), FAST_KDF)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
