/**
 * People and groups new to a desktop, taken in from records (#15, electron/vault/replica-people-new.ts),
 * between real vault files exchanging records as JSON, as a team server relays them: a new user,
 * a user's new public key (an owner's password reset), a new group with a grant to it, a group's
 * rename and delete, this person made or unmade a lead. Each is taken in where its signer may make
 * it by the roles the receiving desktop holds, and set aside (or refused) where not — each refusal
 * fails with its rule removed: the desktops where it is refused are copies on which the owner
 * demoted the signer first, or the record is forged.
 * Must never: count a check that cannot fail (each refusal sits beside the same record taken in).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../electron/vault/crypto';
import { Vault } from '../../electron/vault/vault';
import type { Clock } from '../../electron/vault/service';
import type { VaultSession } from '../../electron/vault/service';
import { ADMIN, ADMIN_PASSWORD, LEAD, LEAD_PASSWORD, MEMBER, MEMBER_PASSWORD, newPeopleWorld, OWNER, PASSWORD, userState, wire } from '../support/people-world';
import { FAST_KDF } from '../support/vault';

async function setUp() {
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'technician', password: MEMBER_PASSWORD }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
    members: [MEMBER],
    desktops: [
      { label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'owner-2', name: OWNER, password: PASSWORD }, { label: 'owner-3', name: OWNER, password: PASSWORD },
      { label: 'owner-4', name: OWNER, password: PASSWORD },
      { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }, { label: 'lead-2', name: LEAD, password: LEAD_PASSWORD }, { label: 'mo', name: MEMBER, password: MEMBER_PASSWORD }, { label: 'mo-2', name: MEMBER, password: MEMBER_PASSWORD },
    ],
  });
  const [leadFile = '', ownerTwo = '', ownerThree = '', ownerFour = '', adminFile = '', leadTwo = '', moFile = '', moTwo = ''] = files;
  return { clock, leadFile, ownerTwo, ownerThree, ownerFour, adminFile, leadTwo, moFile, moTwo, netId };
}

async function on<T>(file: string, clock: Clock, who: readonly [string, string], work: (s: VaultSession) => Promise<T>): Promise<T> {
  const session = await Vault.open(file, clock).signIn(who[0], who[1]);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

const owner = [OWNER, PASSWORD] as const;
const lena = [LEAD, LEAD_PASSWORD] as const;
const mo = [MEMBER, MEMBER_PASSWORD] as const;
const ada = [ADMIN, ADMIN_PASSWORD] as const;

/** The owner, on `file`, makes `name` a technician first: a desktop where their records are not theirs to make. */
async function demote(file: string, clock: Clock, name: string): Promise<void> {
  await on(file, clock, owner, async (s) => s.team.changeRole(name, 'technician', await s.team.userRevision(name)));
}

function publicKeyOf(file: string, name: string): string | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT hex(public_key) AS k FROM users WHERE name = ?').get(name) as { k: string } | undefined)?.k;
  } finally {
    db.close();
  }
}

async function groupNames(file: string, clock: Clock, who: readonly [string, string]): Promise<string[]> {
  return on(file, clock, who, async (s) => (await s.team.listGroups()).map((g) => g.name).sort());
}

describe('people and groups new to this desktop', () => {
  it('takes a new user in from an admin, refuses them where the admin is not one, and never from a forged record', async () => {
    const { clock, ownerTwo, ownerThree, ownerFour, adminFile } = await setUp();
    await on(adminFile, clock, ada, (s) => s.createUser('nia', 'technician', 'a one-time password for nia', FAST_KDF));
    const made = await on(adminFile, clock, ada, (s) => s.replica.outgoing());
    expect(made.batch.records.filter((r) => r.kind === 'user').map((r) => r.kind === 'user' && r.name)).toContain('nia');

    // A relay changing her role on the way: the signature no longer holds.
    const forged = wire(made) as { records: Array<Record<string, unknown>> };
    for (const r of forged.records) if (r.kind === 'user' && r.name === 'nia') r.role = 'admin';
    await expect(on(ownerFour, clock, owner, (s) => s.replica.apply(forged))).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    expect(userState(ownerFour, 'nia')).toBeUndefined();

    await on(ownerTwo, clock, owner, (s) => s.replica.apply(wire(made)));
    expect(userState(ownerTwo, 'nia')).toEqual({ role: 'technician', disabled: false });
    expect(publicKeyOf(ownerTwo, 'nia')).toBe(publicKeyOf(adminFile, 'nia'));
    // Nia signs in on her own desktop: here her row seals nothing, and her name opens nothing.
    await expect(Vault.open(ownerTwo, clock).signIn('nia', 'a one-time password for nia')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });

    // Where the owner made ada a technician first: set aside, nia unknown.
    await demote(ownerThree, clock, ADMIN);
    const held = await on(ownerThree, clock, owner, (s) => s.replica.apply(wire(made), { hold: true, caughtUp: true }));
    expect(held.held.find((h) => h.kind === 'user')?.reason).toMatch(/may not manage users/);
    expect(userState(ownerThree, 'nia')).toBeUndefined();

  });

  it('takes a password reset\'s new public key in with its owner-certified signing key, and not without it or from an admin', async () => {
    const { clock, ownerTwo, ownerThree, ownerFour, adminFile } = await setUp();
    await on(ownerTwo, clock, owner, async (s) => s.team.resetPassword(MEMBER, 'a new one-time password for mo', await s.team.userRevision(MEMBER), FAST_KDF));
    const reset = await on(ownerTwo, clock, owner, (s) => s.replica.outgoing());
    expect(reset.batch.records.map((r) => r.kind)).toEqual(expect.arrayContaining(['user', 'signing_key', 'member']));

    // Without the certified key (a relay withholding it): set aside, the key unchanged.
    const withheld = wire(reset) as { records: Array<{ kind: string }> };
    withheld.records = withheld.records.filter((r) => r.kind !== 'signing_key');
    const before = publicKeyOf(ownerThree, MEMBER);
    const waiting = await on(ownerThree, clock, owner, (s) => s.replica.apply(withheld, { hold: true, caughtUp: true }));
    expect(waiting.held.find((h) => h.kind === 'user')?.reason).toMatch(/no owner-certified signing key/);
    expect(publicKeyOf(ownerThree, MEMBER)).toBe(before);
    // With it: taken in (the user record set aside is tried again first).
    await on(ownerThree, clock, owner, (s) => s.replica.apply(wire(reset), { hold: true, caughtUp: true }));
    expect(publicKeyOf(ownerThree, MEMBER)).toBe(publicKeyOf(ownerTwo, MEMBER));
    expect(publicKeyOf(ownerThree, MEMBER)).not.toBe(before);

    // An admin's record giving mo another public key (her file altered so): refused as tampered.
    const db = new Database(adminFile);
    db.prepare('UPDATE users SET public_key = ? WHERE name = ?').run(generateKeyPair().publicKey, MEMBER);
    db.close();
    await on(adminFile, clock, ada, async (s) => s.team.changeRole(MEMBER, 'team_lead', await s.team.userRevision(MEMBER)));
    const byAdmin = await on(adminFile, clock, ada, (s) => s.replica.outgoing());
    const refused = await on(ownerFour, clock, owner, (s) => s.replica.apply(wire(byAdmin))).then(() => undefined, (error: unknown) => error);
    expect(refused).toMatchObject({ code: 'VAULT_TAMPERED' });
    expect(refused instanceof Error ? refused.message : '').toMatch(/no owner/);
    expect(userState(ownerFour, MEMBER)).toEqual({ role: 'technician', disabled: false });
  });

  it('takes a lead\'s new group in with its entry and the grant to it, and refuses it where the lead manages nothing', async () => {
    const { clock, leadFile, ownerTwo, leadTwo, moFile, moTwo } = await setUp();
    await on(leadFile, clock, lena, async (s) => {
      const servers = await s.team.createGroup('Servers');
      await s.team.grant(servers.id, MEMBER, false, await s.team.groupRevision(servers.id));
      await s.createEntries([{ customer: 'Acme', title: 'Hypervisor', password: 'hv-1', groupId: servers.id }]);
    });
    const made = await on(leadFile, clock, lena, (s) => s.replica.outgoing());

    // The owner's desktop (every group by role) and mo's (granted): the group, its key, its entry.
    await on(ownerTwo, clock, owner, (s) => s.replica.apply(wire(made)));
    expect(await groupNames(ownerTwo, clock, owner)).toEqual(['Default', 'Network', 'Servers'].sort());
    expect(await on(ownerTwo, clock, owner, async (s) => s.revealPassword((await s.resolvePath('Acme/Hypervisor')).id))).toBe('hv-1');
    const taken = await on(moFile, clock, mo, (s) => s.replica.apply(wire(made), { hold: true, caughtUp: true }));
    expect(taken.held).toEqual([]);
    expect(await on(moFile, clock, mo, async (s) => s.revealPassword((await s.resolvePath('Acme/Hypervisor')).id))).toBe('hv-1');
    // Lena's other desktop: the group she made, led by her there too.
    const hers = await on(leadTwo, clock, lena, (s) => s.replica.apply(wire(made), { hold: true, caughtUp: true }));
    expect(hers.held).toEqual([]);
    expect(await on(leadTwo, clock, lena, async (s) => (await s.team.listGroups()).find((g) => g.name === 'Servers')?.lead)).toBe(true);
    expect(await on(leadTwo, clock, lena, async (s) => s.revealPassword((await s.resolvePath('Acme/Hypervisor')).id))).toBe('hv-1');

    // Where the owner made lena a technician first (she may create no group): set aside, nothing of it here.
    await demote(moTwo, clock, LEAD);
    const held = await on(moTwo, clock, mo, (s) => s.replica.apply(wire(made), { hold: true, caughtUp: true }));
    expect(held.held.find((h) => h.kind === 'group')?.reason).toMatch(/may not create one/);
    expect(await groupNames(moTwo, clock, mo)).not.toContain('Servers');
    expect(await on(moTwo, clock, mo, async (s) => (await s.listEntries()).map((e) => e.title))).not.toContain('Hypervisor');
  });

  it('takes a rename in from whoever manages the group, never an older one played back, and not from someone who does not', async () => {
    const { clock, leadFile, ownerTwo, ownerThree, ownerFour, netId } = await setUp();
    await on(leadFile, clock, lena, async (s) => s.team.renameGroup(netId, 'Network Ops', await s.team.groupRevision(netId)));
    const first = await on(leadFile, clock, lena, (s) => s.replica.outgoing());
    await on(leadFile, clock, lena, (s) => s.replica.markSent(first));
    await on(leadFile, clock, lena, async (s) => s.team.renameGroup(netId, 'Networks', await s.team.groupRevision(netId)));
    const second = await on(leadFile, clock, lena, (s) => s.replica.outgoing());

    await on(ownerTwo, clock, owner, (s) => s.replica.apply(wire(first)));
    expect(await groupNames(ownerTwo, clock, owner)).toContain('Network Ops');
    await on(ownerTwo, clock, owner, (s) => s.replica.apply(wire(second)));
    await on(ownerTwo, clock, owner, (s) => s.replica.apply(wire(first)));
    expect(await groupNames(ownerTwo, clock, owner)).toEqual(['Default', 'Networks'].sort());

    await demote(ownerThree, clock, LEAD);
    const held = await on(ownerThree, clock, owner, (s) => s.replica.apply(wire(first), { hold: true, caughtUp: true }));
    expect(held.held.find((h) => h.kind === 'group')?.reason).toMatch(/does not manage/);
    expect(await groupNames(ownerThree, clock, owner)).toEqual(['Default', 'Network'].sort());

    // A rename to a name another group holds here waits, set aside; its reason, kept plain in the file, names no group.
    await on(ownerFour, clock, owner, (s) => s.team.createGroup('Network Ops'));
    const waits = await on(ownerFour, clock, owner, (s) => s.replica.apply(wire(first), { hold: true, caughtUp: true }));
    expect(waits.held.find((h) => h.kind === 'group')?.reason).toMatch(/^A received record renames an access group to a name another group here holds/);
    const file = new Database(ownerFour, { readonly: true });
    try {
      expect((file.prepare('SELECT reason FROM replica_held').all() as Array<{ reason: string }>).map((r) => r.reason).join('\n')).not.toMatch(/Network Ops/);
    } finally {
      file.close();
    }
  });

  it('takes a delete of an empty group in from whoever manages it, an entry added there here and not sent dropped and told', async () => {
    const { clock, ownerTwo, ownerThree, adminFile } = await setUp();
    const tmp = await on(ownerTwo, clock, owner, (s) => s.team.createGroup('Tmp'));
    const made = await on(ownerTwo, clock, owner, (s) => s.replica.outgoing());
    await on(ownerTwo, clock, owner, (s) => s.replica.markSent(made));
    await on(ownerTwo, clock, owner, async (s) => s.team.deleteGroup(tmp.id, await s.team.groupRevision(tmp.id)));
    const deleted = await on(ownerTwo, clock, owner, (s) => s.replica.outgoing());
    expect(deleted.batch.records.some((r) => r.kind === 'group' && r.deletedAt !== null)).toBe(true);

    for (const [file, who] of [[ownerThree, owner], [adminFile, ada]] as const) await on(file, clock, who, (s) => s.replica.apply(wire(made)));
    expect(await groupNames(ownerThree, clock, owner)).toContain('Tmp');
    await on(ownerThree, clock, owner, (s) => s.replica.apply(wire(deleted)));
    expect(await groupNames(ownerThree, clock, owner)).not.toContain('Tmp');

    // On ada's desktop an entry was put in Tmp meanwhile, not sent. Before, the delete waited (set aside)
    // and her push met FORBIDDEN at every sync (C7); now the delete is taken, her entry dropped and told.
    await on(adminFile, clock, ada, async (s) => {
      const group = (await s.team.listGroups()).find((g) => g.name === 'Tmp');
      await s.createEntries([{ customer: 'Acme', title: 'Kept', password: 'k-1', groupId: group?.id ?? 0 }]);
    });
    const taken = await on(adminFile, clock, ada, (s) => s.replica.apply(wire(deleted), { hold: true, caughtUp: true }));
    expect({ held: taken.held.filter((h) => h.kind === 'group'), groupDeleted: taken.groupDeleted }).toEqual({ held: [], groupDeleted: [{ group: 'Tmp', droppedChanges: 1 }] });
    expect(await groupNames(adminFile, clock, ada)).not.toContain('Tmp');
    expect(await on(adminFile, clock, ada, async (s) => (await s.listEntries()).map((e) => e.title))).not.toContain('Kept');
  });

  it('takes this person made a lead (and unmade) from whoever manages the group, and not where the maker does not', async () => {
    const { clock, leadFile, moFile, moTwo, netId } = await setUp();
    await on(leadFile, clock, lena, async (s) => s.team.setLead(netId, MEMBER, true, await s.team.memberRevision(netId, MEMBER)));
    const made = await on(leadFile, clock, lena, (s) => s.replica.outgoing());
    await on(leadFile, clock, lena, (s) => s.replica.markSent(made));
    await on(leadFile, clock, lena, async (s) => s.team.setLead(netId, MEMBER, false, await s.team.memberRevision(netId, MEMBER)));
    const unmade = await on(leadFile, clock, lena, (s) => s.replica.outgoing());
    const leads = async (file: string): Promise<boolean | undefined> => on(file, clock, mo, async (s) => (await s.team.listGroups()).find((g) => g.id === netId)?.lead);

    expect(await leads(moFile)).toBe(false);
    await on(moFile, clock, mo, (s) => s.replica.apply(wire(made)));
    expect(await leads(moFile)).toBe(true);
    await on(moFile, clock, mo, (s) => s.replica.apply(wire(unmade)));
    await on(moFile, clock, mo, (s) => s.replica.apply(wire(made)));
    expect(await leads(moFile)).toBe(false);

    await demote(moTwo, clock, LEAD);
    const held = await on(moTwo, clock, mo, (s) => s.replica.apply(wire(made), { hold: true, caughtUp: true }));
    expect(held.held.find((h) => h.kind === 'member')?.reason).toMatch(/does not manage/);
    expect(await leads(moTwo)).toBe(false);
  });
});
