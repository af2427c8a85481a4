/**
 * Custom roles, the vault settings and the MFA policy as team-vault records on the server (task
 * 15), over real HTTP on PostgreSQL and on PGlite: a role record written by the owner is stored and
 * its holder's writes are judged by its permissions (shared/policy-writes.ts), a narrowed role
 * refusing its holder's next write; a member's forged role record or MFA policy downgrade is
 * refused (FORBIDDEN, nothing stored); a stale base is CONFLICT; an admin may not change the owner
 * role's MFA level; a pull hands these kinds only to a desktop that names them. Signatures are the
 * test keys' (signers.ts). Must never pass with the custom-role check off: bob's narrowed write would be stored.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../shared/policy';
import { vaultObjectId, type MfaPolicyRecord, type RoleRecord, type SettingsRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, userRecord, vaultUsers } from './people';
import type { Person } from './support';

const databases = useTestDatabases();
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const sig = Buffer.from('signature').toString('base64url');

function roleRecord(vault: string, author: string, name: string, permissions: Permission[], revision: number, base: number): RoleRecord {
  return { kind: 'role', id: vaultObjectId(vault, 'role', sha256Hex, name), revision, base, name, permissions, author, signerKey: author, signature: sig };
}
function settingsRecord(vault: string, author: string, revision: number, base: number, idleLockMinutes = 5): SettingsRecord {
  return { kind: 'settings', id: vaultObjectId(vault, 'settings', sha256Hex), revision, base, idleLockMinutes, clipboardClearSeconds: 30, trustDeviceDays: 0, author, signerKey: author, signature: sig };
}
function policyRecord(vault: string, author: string, revision: number, base: number, global: MfaPolicyRecord['global'], roles: MfaPolicyRecord['roles'] = []): MfaPolicyRecord {
  return { kind: 'mfa_policy', id: vaultObjectId(vault, 'mfa_policy', sha256Hex), revision, base, global, roles, author, signerKey: author, signature: sig };
}

describe.each(DATABASE_KINDS)('custom roles, settings and MFA policy on the server, on %s', (kind) => {
  let owner: Person;
  let admin: Person;
  let bob: Person;
  let carol: Person;
  beforeAll(async () => {
    ({ owner, people: { admin, bob, carol } } = await serverWithPeople(await databases.open(kind), ['admin', 'bob', 'carol']));
  }, 120_000);

  /** A vault: the owner, an admin, bob (custom role Helpdesk, a lead of G) and carol (technician in G); the role defined as `permissions`. */
  async function world(permissions: Permission[]): Promise<{ vault: string; u: Record<'owner' | 'admin' | 'bob' | 'carol', string>; g: string }> {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), admin: randomUUID(), bob: randomUUID(), carol: randomUUID() };
    const g = randomUUID();
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Helpdesk', permissions, 1, 0),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.admin, 'admin', admin], [u.bob, 'Helpdesk', bob], [u.carol, 'technician', carol]]),
      groupRecord(u.owner, { id: g, keyVersion: 1 }),
      memberRecord(u.owner, { group: g, user: u.bob, keyVersion: 1, lead: true }), memberRecord(u.owner, { group: g, user: u.carol, keyVersion: 1 }),
    ]));
    return { vault, u, g };
  }
  const seq = async (vault: string): Promise<number> => (await owner.client.ok('syncPull', { vault, since: 0 })).upTo;

  it('judges a custom role\'s holder by its permissions: bob creates an entry, then the role narrowed, his next write is refused', async () => {
    const w = await world(['entries.view', 'entries.create', 'entries.edit']);
    const first = entryIn(w.u.bob, w.g);
    expect(await bob.client.ok('syncPush', pushOf(w.vault, [first]))).toMatchObject({ accepted: 1 });
    // Narrowed on the owner's desktop: view only.
    await owner.client.ok('syncPush', pushOf(w.vault, [roleRecord(w.vault, w.u.owner, 'Helpdesk', ['entries.view'], 2, 1)]));
    const before = await seq(w.vault);
    expect(await bob.client.fails('syncPush', pushOf(w.vault, [entryIn(w.u.bob, w.g, { id: first.id, revision: 2, base: 1 })]))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(await bob.client.fails('syncPush', pushOf(w.vault, [entryIn(w.u.bob, w.g)]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await seq(w.vault)).toBe(before);
  });

  it('lets a custom role with groups.manage make a group and manage the one it leads; without it, neither', async () => {
    const w = await world(['entries.view', 'entries.create', 'entries.edit', 'groups.manage']);
    const mine = randomUUID();
    expect(await bob.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.bob, { id: mine, keyVersion: 1 }), memberRecord(w.u.bob, { group: mine, user: w.u.bob, keyVersion: 1, lead: true })]))).toMatchObject({ accepted: 2 });
    // A lead of G by a role that manages groups: revokes carol there.
    expect(await bob.client.ok('syncPush', pushOf(w.vault, [memberRecord(w.u.bob, { group: w.g, user: w.u.carol, keyVersion: 1, revoked: true, revision: 2 })]))).toMatchObject({ accepted: 1 });
    await owner.client.ok('syncPush', pushOf(w.vault, [roleRecord(w.vault, w.u.owner, 'Helpdesk', ['entries.view', 'entries.create', 'entries.edit'], 2, 1)]));
    expect(await bob.client.fails('syncPush', pushOf(w.vault, [groupRecord(w.u.bob, { id: randomUUID(), keyVersion: 1 })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await bob.client.fails('syncPush', pushOf(w.vault, [memberRecord(w.u.bob, { group: w.g, user: w.u.carol, keyVersion: 1, revision: 3 })]))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses a member\'s forged role record, settings or MFA policy downgrade, and an admin\'s change of the owner role\'s MFA level', async () => {
    const w = await world(['entries.view']);
    await owner.client.ok('syncPush', pushOf(w.vault, [policyRecord(w.vault, w.u.owner, 1, 0, 'required', [['owner', 'required']])]));
    const before = await seq(w.vault);
    const bobs = [
      roleRecord(w.vault, w.u.bob, 'Helpdesk', ['entries.view', 'entries.create', 'entries.edit', 'entries.delete'], 2, 1),
      roleRecord(w.vault, w.u.bob, 'Climber', ['users.manage'], 1, 0),
      settingsRecord(w.vault, w.u.bob, 1, 0, 0),
      policyRecord(w.vault, w.u.bob, 2, 1, 'off'),
    ];
    for (const record of bobs) expect(await bob.client.fails('syncPush', pushOf(w.vault, [record]))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    // carol, a technician, likewise.
    expect(await carol.client.fails('syncPush', pushOf(w.vault, [policyRecord(w.vault, w.u.carol, 2, 1, 'off', [['owner', 'required']])]))).toMatchObject({ code: 'FORBIDDEN' });
    // An admin lowers everyone's level but may not touch the owner role's.
    expect(await admin.client.fails('syncPush', pushOf(w.vault, [policyRecord(w.vault, w.u.admin, 2, 1, 'optional', [['owner', 'off']])]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await seq(w.vault)).toBe(before);
    expect(await admin.client.ok('syncPush', pushOf(w.vault, [policyRecord(w.vault, w.u.admin, 2, 1, 'optional', [['owner', 'required']])]))).toMatchObject({ accepted: 1 });
    // A record not named by what it is, or a built-in name as a custom role.
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [{ ...settingsRecord(w.vault, w.u.owner, 1, 0), id: randomUUID() }]))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [roleRecord(w.vault, w.u.owner, 'Team lead', ['entries.view'], 1, 0)]))).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('answers a stale base with CONFLICT naming the revision held, for a role, the settings and the policy', async () => {
    const w = await world(['entries.view']);
    await owner.client.ok('syncPush', pushOf(w.vault, [settingsRecord(w.vault, w.u.owner, 1, 0), policyRecord(w.vault, w.u.owner, 1, 0, 'required')]));
    const stale = [
      roleRecord(w.vault, w.u.admin, 'Helpdesk', ['entries.view', 'otp.view'], 1, 0),
      settingsRecord(w.vault, w.u.admin, 1, 0, 20),
      policyRecord(w.vault, w.u.admin, 1, 0, 'off'),
    ];
    for (const record of stale) {
      expect(await admin.client.ok('syncPush', pushOf(w.vault, [record]))).toMatchObject({ accepted: 0, conflicts: [{ id: record.id, revision: 1 }] });
    }
    expect(await admin.client.ok('syncPush', pushOf(w.vault, [settingsRecord(w.vault, w.u.admin, 2, 1, 20)]))).toMatchObject({ accepted: 1, conflicts: [] });
  });

  it('hands role, settings and policy records only to a pull or snapshot that names their kinds', async () => {
    const w = await world(['entries.view']);
    await owner.client.ok('syncPush', pushOf(w.vault, [settingsRecord(w.vault, w.u.owner, 1, 0)]));
    const kinds = (records: ReadonlyArray<{ record: { kind: string } }>): string[] => [...new Set(records.map((r) => r.record.kind))].sort();
    expect(kinds((await bob.client.ok('syncPull', { vault: w.vault, since: 0 })).records)).not.toContain('role');
    expect(kinds((await bob.client.ok('syncPull', { vault: w.vault, since: 0, kinds: ['role', 'settings', 'mfa_policy'] })).records)).toEqual(expect.arrayContaining(['role', 'settings']));
    const snap = await bob.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: 0 });
    expect(kinds(snap.records)).not.toContain('settings');
    expect(kinds((await bob.client.ok('syncSnapshot', { vault: w.vault, part: 'state', after: 0, kinds: ['settings'] })).records)).toContain('settings');
  });

  it('lets a custom role with users.manage set a user within its own permissions, never beyond them', async () => {
    const w = await world(['entries.view', 'otp.view', 'entries.create', 'users.manage']);
    const dave = randomUUID();
    expect(await bob.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.bob, { id: dave, role: 'codes_only', account: null })]))).toMatchObject({ accepted: 1 });
    expect(await bob.client.fails('syncPush', pushOf(w.vault, [userRecord(w.u.bob, { id: dave, role: 'technician', account: null, revision: 2 })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await bob.client.fails('syncPush', pushOf(w.vault, [userRecord(w.u.bob, { id: w.u.carol, role: 'codes_only', account: carol.user.id, revision: 2 })]))).toMatchObject({ code: 'FORBIDDEN' });
  });
});
