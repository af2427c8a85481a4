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

function wire(out: Outgoing): unknown {
  return JSON.parse(JSON.stringify(out.batch)) as unknown;
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
  await session.close();
  const lena = await Vault.open(file, clock).signIn(LEAD, 'a one-time password for lena');
  await lena.changePassword('a one-time password for lena', LEAD_PASSWORD, FAST_KDF);
  const net = await lena.team.createGroup('Network');
  await lena.team.grant(net.id, MEMBER);
  await lena.createEntries([{ customer: 'Acme', title: 'Core switch', password: 'cs-1', groupId: net.id }]);
  await lena.close();
  const copies = ['lead', 'owner-2', 'owner-3'].map((name) => path.join(tempFolder(), `desktop-${name}.crewvault`));
  for (const copy of copies) await copyAsNewDesktop(file, copy, clock);
  const [leadFile = '', ownerTwo = '', ownerThree = ''] = copies;
  for (const [f, who, pw] of [[file, OWNER, PASSWORD], [leadFile, LEAD, LEAD_PASSWORD], [ownerTwo, OWNER, PASSWORD], [ownerThree, OWNER, PASSWORD]] as const) {
    const s = await Vault.open(f, clock).signIn(who, pw);
    await s.replica.agreeAll();
    await s.close();
  }
  return { clock, leadFile, ownerTwo, ownerThree, netId: net.id };
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
    expect((await again.team.members(netId)).map((m) => m.name).sort()).toEqual([OWNER, LEAD].sort());
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
    expect((await three.team.members(netId)).map((m) => m.name).sort()).toEqual([LEAD, MEMBER, OWNER].sort());
    expect(await three.revealPassword((await three.resolvePath('Acme/Core switch')).id)).toBe('cs-1');
    await three.close();
  });
});
