/**
 * A desktop taking in a rotation made on another (#15, electron/vault/replica-people-in.ts),
 * between real vault files exchanging records as JSON, as a team server would relay them: a team
 * lead's desktop revokes a member from the group it leads (rotating its key). Another desktop
 * where the lead still leads the group takes the new key in, and its next sign-in opens the
 * group's entries under it; a desktop where the lead no longer manages the group (demoted to
 * technician there) refuses the very same records as tampered, changing nothing, and sets them
 * aside when syncing through a server. Must never: count a check that cannot fail (each side
 * shows the other's outcome).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Outgoing } from '../../electron/vault/replica-service';
import { Vault } from '../../electron/vault/vault';
import { copyAsNewDesktop } from '../support/replica';
import { FAST_KDF, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

const LEAD = 'lena';
const LEAD_PASSWORD = 'lena leads the network team';
const MEMBER = 'mo';
const ADMIN = 'ada';
const ADMIN_PASSWORD = 'ada administers the vault';

function wire(out: Outgoing): unknown {
  return JSON.parse(JSON.stringify(out.batch)) as unknown;
}

/** A user's role and whether disabled, as the file holds them (read beside the session, read-only). */
function userState(file: string, name: string): { role: string; disabled: boolean } | undefined {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare('SELECT role, disabled_at FROM users WHERE name = ?').get(name) as { role: string; disabled_at: number | null } | undefined;
    return row && { role: row.role, disabled: row.disabled_at !== null };
  } finally {
    db.close();
  }
}

/** Whether the file holds the group as set to "server computes codes". */
function serverCodesOf(file: string, groupId: number): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT server_codes FROM access_groups WHERE id = ?').get(groupId) as { server_codes: number }).server_codes === 1;
  } finally {
    db.close();
  }
}

/** The group's key version as the file holds it (read beside the session, read-only). */
function groupVersion(file: string, groupId: number): number | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(groupId) as { key_version: number } | undefined)?.key_version;
  } finally {
    db.close();
  }
}

async function setUp() {
  const { file, session, clock } = await newVault();
  await session.createUser(LEAD, 'team_lead', 'a one-time password for lena', FAST_KDF);
  await session.createUser(MEMBER, 'technician', 'a one-time password for mo', FAST_KDF);
  await session.createUser(ADMIN, 'admin', 'a one-time password for ada', FAST_KDF);
  await session.close();
  const ada = await Vault.open(file, clock).signIn(ADMIN, 'a one-time password for ada');
  await ada.changePassword('a one-time password for ada', ADMIN_PASSWORD, FAST_KDF);
  await ada.close();
  const lena = await Vault.open(file, clock).signIn(LEAD, 'a one-time password for lena');
  await lena.changePassword('a one-time password for lena', LEAD_PASSWORD, FAST_KDF);
  const net = await lena.team.createGroup('Network');
  await lena.team.grant(net.id, MEMBER);
  await lena.createEntries([{ customer: 'Acme', title: 'Core switch', password: 'cs-1', groupId: net.id }]);
  await lena.close();
  const copies = ['lead', 'owner-2', 'owner-3', 'admin'].map((name) => path.join(tempFolder(), `desktop-${name}.crewvault`));
  for (const copy of copies) await copyAsNewDesktop(file, copy, clock);
  const [leadFile = '', ownerTwo = '', ownerThree = '', adminFile = ''] = copies;
  for (const [f, who, pw] of [[file, OWNER, PASSWORD], [leadFile, LEAD, LEAD_PASSWORD], [ownerTwo, OWNER, PASSWORD], [ownerThree, OWNER, PASSWORD], [adminFile, ADMIN, ADMIN_PASSWORD]] as const) {
    const s = await Vault.open(f, clock).signIn(who, pw);
    await s.replica.agreeAll();
    await s.close();
  }
  return { clock, leadFile, ownerTwo, ownerThree, adminFile, netId: net.id };
}

describe('a rotation made on another desktop', () => {
  it('is taken in where its signer manages the group, and refused where they do not', async () => {
    const { clock, leadFile, ownerTwo, ownerThree, netId } = await setUp();
    // The lead revokes mo from Network on their desktop: the key rotates, the entry is re-sealed.
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.revoke(netId, MEMBER);
    const rotation = await lead.replica.outgoing();
    await lead.close();
    expect(rotation.batch.records.map((r) => r.kind)).toEqual(expect.arrayContaining(['group', 'member', 'entry']));

    // Where lena leads Network: taken in; signed in again, the entry opens under the new key.
    const two = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    expect(groupVersion(ownerTwo, netId)).toBe(1);
    const taken = await two.replica.apply(wire(rotation));
    expect(taken.applied).toBeGreaterThan(0);
    await two.close();
    const again = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    expect(groupVersion(ownerTwo, netId)).toBe(2);
    expect((await again.team.members(netId)).map((m) => m.name).sort()).toEqual([ADMIN, OWNER, LEAD].sort());
    expect(await again.revealPassword((await again.resolvePath('Acme/Core switch')).id)).toBe('cs-1');
    await again.close();

    // Where the owner made lena a technician first (she manages no group there): refused, nothing changed.
    const three = await Vault.open(ownerThree, clock).signIn(OWNER, PASSWORD);
    await three.team.changeRole(LEAD, 'technician');
    await expect(three.replica.apply(wire(rotation))).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    expect(groupVersion(ownerThree, netId)).toBe(1);
    // Through a server (records set aside rather than refusing the rest): still not taken in.
    const held = await three.replica.apply(wire(rotation), { hold: true, caughtUp: true });
    expect(held.held.map((h) => h.kind)).toEqual(expect.arrayContaining(['group', 'entry']));
    expect(held.accessRemoved).toEqual([]);
    expect(groupVersion(ownerThree, netId)).toBe(1);
    expect((await three.team.members(netId)).map((m) => m.name).sort()).toEqual([ADMIN, LEAD, MEMBER, OWNER].sort());
    expect(await three.revealPassword((await three.resolvePath('Acme/Core switch')).id)).toBe('cs-1');
    await three.close();
  });

  it('takes a role change in where its signer may make it, refuses it where not, and never plays an older one back', async () => {
    const { clock, ownerTwo, ownerThree, adminFile } = await setUp();
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.changeRole(MEMBER, 'team_lead');
    const promote = await admin.replica.outgoing();
    await admin.replica.markSent(promote);
    await admin.team.changeRole(MEMBER, 'technician');
    const demote = await admin.replica.outgoing();
    await admin.close();
    expect(promote.batch.records.filter((r) => r.kind === 'user' && r.name === MEMBER).map((r) => r.kind === 'user' && r.role)).toEqual(['team_lead']);

    // Where ada is an admin: taken in, in order; the older record played again changes nothing.
    const two = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    expect(userState(ownerTwo, MEMBER)).toEqual({ role: 'technician', disabled: false });
    await two.replica.apply(wire(promote));
    expect(userState(ownerTwo, MEMBER)).toEqual({ role: 'team_lead', disabled: false });
    await two.replica.apply(wire(demote));
    expect(userState(ownerTwo, MEMBER)).toEqual({ role: 'technician', disabled: false });
    const replayed = await two.replica.apply(wire(promote));
    expect(replayed.applied).toBe(0);
    expect(userState(ownerTwo, MEMBER)).toEqual({ role: 'technician', disabled: false });
    await two.close();

    // Where the owner made ada a technician first: refused as tampered, nothing changed.
    const three = await Vault.open(ownerThree, clock).signIn(OWNER, PASSWORD);
    await three.team.changeRole(ADMIN, 'technician');
    await expect(three.replica.apply(wire(promote))).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    expect(userState(ownerThree, MEMBER)).toEqual({ role: 'technician', disabled: false });
    await three.close();
  });

  it('is taken in by a codes-only member of a group the server computes codes for (no secret key to seal again with): the rotating desktop\'s versions fill in', async () => {
    const { file, session, clock } = await newVault();
    await session.createUser(LEAD, 'team_lead', 'a one-time password for lena', FAST_KDF);
    await session.createUser(MEMBER, 'technician', 'a one-time password for mo', FAST_KDF);
    await session.createUser('cody', 'codes_only', 'a one-time password for cody', FAST_KDF);
    await session.close();
    for (const [who, once, pw] of [[LEAD, 'a one-time password for lena', LEAD_PASSWORD], ['cody', 'a one-time password for cody', 'cody only reads the codes']] as const) {
      const s = await Vault.open(file, clock).signIn(who, once);
      await s.changePassword(once, pw, FAST_KDF);
      await s.close();
    }
    const lena = await Vault.open(file, clock).signIn(LEAD, LEAD_PASSWORD);
    const net = await lena.team.createGroup('Network');
    await lena.team.grant(net.id, MEMBER);
    await lena.team.grant(net.id, 'cody');
    await lena.createEntries([{ customer: 'Acme', title: 'Core switch', password: 'cs-1', groupId: net.id }]);
    await lena.close();
    const owner = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    await owner.team.setServerCodes(net.id, true);
    await owner.close();
    const [leadFile = '', codyFile = ''] = ['lead', 'cody'].map((name) => path.join(tempFolder(), `desktop-${name}.crewvault`));
    for (const [copy, who, pw] of [[leadFile, LEAD, LEAD_PASSWORD], [codyFile, 'cody', 'cody only reads the codes']] as const) {
      await copyAsNewDesktop(file, copy, clock);
      const s = await Vault.open(copy, clock).signIn(who, pw);
      await s.replica.agreeAll();
      await s.close();
    }
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.updateEntry((await lead.resolvePath('Acme/Core switch')).id, { title: 'Core switch 2' }, (await lead.resolvePath('Acme/Core switch')).revision);
    await lead.team.revoke(net.id, MEMBER);
    const rotation = await lead.replica.outgoing();
    await lead.close();

    expect(groupVersion(codyFile, net.id)).toBe(2);
    const cody = await Vault.open(codyFile, clock).signIn('cody', 'cody only reads the codes');
    const outcome = await cody.replica.apply(wire(rotation), { hold: true, caughtUp: true });
    expect(outcome.held).toEqual([]);
    await cody.close();
    const again = await Vault.open(codyFile, clock).signIn('cody', 'cody only reads the codes');
    expect(groupVersion(codyFile, net.id)).toBe(3);
    expect((await again.listEntries()).map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme/Core switch 2']);
    await again.close();
  });

  it('takes the "server computes codes" setting in from an owner\'s group record: on with its rotation, off alone', async () => {
    const { clock, ownerTwo, ownerThree, netId } = await setUp();
    const setter = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    await setter.team.setServerCodes(netId, true);
    const on = await setter.replica.outgoing();
    await setter.replica.markSent(on);
    await setter.team.setServerCodes(netId, false);
    const off = await setter.replica.outgoing();
    await setter.close();

    const three = await Vault.open(ownerThree, clock).signIn(OWNER, PASSWORD);
    expect(serverCodesOf(ownerThree, netId)).toBe(false);
    await three.replica.apply(wire(on));
    expect([serverCodesOf(ownerThree, netId), groupVersion(ownerThree, netId)]).toEqual([true, 2]);
    await three.replica.apply(wire(off));
    expect([serverCodesOf(ownerThree, netId), groupVersion(ownerThree, netId)]).toEqual([false, 2]);
    await three.close();
  });
});
