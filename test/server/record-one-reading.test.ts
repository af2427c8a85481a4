/**
 * One record, one reading (review round twelve (a), holes 1 and 4): the team server judges a role
 * name and an MFA policy's role list as every desktop stores them, so it never stores a record that
 * desktops read as something it would have refused.
 * - A `users.manage` custom role (Helpdesk) gives someone the role "Owner", "ADMIN", "owner " or
 *   "Team lead": judged as raw text (no such role: no permissions) a desktop would still resolve it
 *   to the built-in. An admin likewise gives "Owner", which only an owner may. Refused (the schema:
 *   a built-in role is written only as its id), as is a custom role spelt otherwise than its record
 *   ("helpdesk", " Helpdesk", "Help desk"), by anyone, owners too.
 * - An admin's MFA policy naming the owner role twice, [owner, required] then [owner, off]: the
 *   server read the first, a desktop the last. Refused, as is a role named twice in any spelling a
 *   desktop folds together, a role spelt otherwise, and a role the server holds no record of; a role
 *   record naming a permission twice; a role record respelling the role it redefines (at another
 *   base: a CONFLICT, so its desktop pulls the team's spelling).
 * The canonical spelling of each is accepted beside it (a test that cannot fail is a defect).
 * Over real HTTP on PostgreSQL and on PGlite (test/server/people.ts' records, test keys' signatures).
 * Must never pass with the fix absent: each refused push below was accepted before it.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../shared/policy';
import { vaultObjectId, type MfaPolicyRecord, type RoleRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { pushOf, serverWithPeople, userRecord, vaultUsers } from './people';
import type { TestServer } from './support';
import type { Person } from './support';

const databases = useTestDatabases();
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const sig = Buffer.from('signature').toString('base64url');

function roleRecord(vault: string, author: string, name: string, permissions: Permission[], revision: number, base: number): RoleRecord {
  return { kind: 'role', id: vaultObjectId(vault, 'role', sha256Hex, name), revision, base, name, permissions, author, signerKey: author, signature: sig };
}
function policyRecord(vault: string, author: string, revision: number, base: number, global: MfaPolicyRecord['global'], roles: MfaPolicyRecord['roles'] = []): MfaPolicyRecord {
  return { kind: 'mfa_policy', id: vaultObjectId(vault, 'mfa_policy', sha256Hex), revision, base, global, roles, author, signerKey: author, signature: sig };
}

describe.each(DATABASE_KINDS)('records the server read otherwise than desktops (review 12a hole 4), on %s', (kind) => {
  let owner: Person;
  let admin: Person;
  let bob: Person;
  beforeAll(async () => {
    ({ owner, people: { admin, bob } } = await serverWithPeople(await databases.open(kind), ['admin', 'bob']));
  }, 120_000);

  async function world(): Promise<{ vault: string; u: Record<'owner' | 'admin' | 'bob', string> }> {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), admin: randomUUID(), bob: randomUUID() };
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Helpdesk', ['entries.view', 'otp.view', 'users.manage'], 1, 0),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.admin, 'admin', admin], [u.bob, 'Helpdesk', bob]]),
    ]));
    return { vault, u };
  }

  it.each(['Owner', 'ADMIN', 'owner ', 'Team lead'])('a users.manage custom role cannot give the role %j (a built-in as every desktop folds it)', async (written) => {
    const w = await world();
    const dave = randomUUID();
    expect(await bob.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.bob, { id: dave, role: 'codes_only', account: null })]))).toMatchObject({ accepted: 1 });
    const reply = await bob.client.call('syncPush', pushOf(w.vault, [userRecord(w.u.bob, { id: dave, role: written, account: null, revision: 2 })]));
    expect(reply.status, `${written}: ${JSON.stringify(reply).slice(0, 200)}`).not.toBe(200);
  });

  it('an admin cannot give the role "Owner" (only an owner makes an owner; every desktop folds it to owner)', async () => {
    const w = await world();
    const dave = randomUUID();
    expect(await admin.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.admin, { id: dave, role: 'technician', account: null })]))).toMatchObject({ accepted: 1 });
    const reply = await admin.client.call('syncPush', pushOf(w.vault, [userRecord(w.u.admin, { id: dave, role: 'Owner', account: null, revision: 2 })]));
    expect(reply.status, JSON.stringify(reply).slice(0, 200)).not.toBe(200);
  });

  it('an admin\'s policy naming the owner role twice (the last one looser) is refused', async () => {
    const w = await world();
    await owner.client.ok('syncPush', pushOf(w.vault, [policyRecord(w.vault, w.u.owner, 1, 0, 'optional', [['owner', 'required']])]));
    const reply = await admin.client.call('syncPush', pushOf(w.vault, [policyRecord(w.vault, w.u.admin, 2, 1, 'optional', [['owner', 'required'], ['owner', 'off']])]));
    expect(reply.status, JSON.stringify(reply).slice(0, 200)).not.toBe(200);
  });
});

describe.each(DATABASE_KINDS)('one spelling of a role in every record, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let admin: Person;
  let bob: Person;
  beforeAll(async () => {
    ({ server, owner, people: { admin, bob } } = await serverWithPeople(await databases.open(kind), ['admin', 'bob']));
  }, 120_000);

  /** A vault: Helpdesk (users.manage) defined by the owner, ada an admin, bob Helpdesk, dave a codes_only person bob may change. */
  async function world(): Promise<{ vault: string; u: Record<'owner' | 'admin' | 'bob' | 'dave', string> }> {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), admin: randomUUID(), bob: randomUUID(), dave: randomUUID() };
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Helpdesk', ['entries.view', 'otp.view', 'users.manage'], 1, 0),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.admin, 'admin', admin], [u.bob, 'Helpdesk', bob]]),
      userRecord(u.owner, { id: u.dave, role: 'codes_only', account: null }),
    ]));
    return { vault, u };
  }
  const roleOf = async (vault: string, user: string): Promise<string | null | undefined> => {
    const [row] = await server.db.query('SELECT role FROM sync_people WHERE vault_id = $1 AND vault_user = $2', [vault, user]);
    return row === undefined ? undefined : (row['role'] as string | null);
  };

  it('a custom role spelt otherwise than its record is refused from anyone, an owner too; as spelt, taken', async () => {
    const w = await world();
    const revision = 2;
    for (const [who, person, written] of [['owner', owner, 'helpdesk'], ['owner', owner, 'HELPDESK'], ['admin', admin, 'HelpDesk'], ['owner', owner, 'Help desk'], ['admin', admin, 'help_desk']] as const) {
      const error = await person.client.fails('syncPush', pushOf(w.vault, [userRecord(w.u[who], { id: w.u.dave, role: written, account: null, revision })]));
      expect(error, `${who} ${written}`).toMatchObject({ code: 'INVALID_INPUT', status: 400 });
    }
    expect(await roleOf(w.vault, w.u.dave)).toBe('codes_only');
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: w.u.dave, role: 'Helpdesk', account: null, revision })]))).toMatchObject({ accepted: 1 });
    expect(await roleOf(w.vault, w.u.dave)).toBe('Helpdesk');
  });

  it('whitespace around a role name is another spelling: refused, built-in or custom', async () => {
    const w = await world();
    for (const written of [' Helpdesk', 'Helpdesk ', 'Helpdesk\t', 'codes_only ', ' codes_only', 'codes  only', 'codes_only\n']) {
      const error = await bob.client.fails('syncPush', pushOf(w.vault, [userRecord(w.u.bob, { id: w.u.dave, role: written, account: null, revision: 2 })]));
      expect(error, JSON.stringify(written)).toMatchObject({ code: 'INVALID_INPUT' });
    }
    expect(await roleOf(w.vault, w.u.dave)).toBe('codes_only');
    // Bob may change dave (codes_only is within Helpdesk) when the role is written as its id: the control.
    expect(await bob.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.bob, { id: w.u.dave, role: 'codes_only', account: null, revision: 2, disabled: true })]))).toMatchObject({ accepted: 1 });
  });

  it('an admin cannot make an owner through any spelling of it; an owner writes "owner"', async () => {
    const w = await world();
    for (const written of ['OWNER', 'Own-er', 'own_er', ' owner', 'owner\n', 'O W N E R']) {
      const error = await admin.client.fails('syncPush', pushOf(w.vault, [userRecord(w.u.admin, { id: w.u.dave, role: written, account: null, revision: 2 })]));
      expect(error, JSON.stringify(written)).toMatchObject({ code: 'INVALID_INPUT' });
    }
    // As written, an admin is refused for what it is (only an owner makes an owner); an owner is not.
    expect(await admin.client.fails('syncPush', pushOf(w.vault, [userRecord(w.u.admin, { id: w.u.dave, role: 'owner', account: null, revision: 2 })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await roleOf(w.vault, w.u.dave)).toBe('codes_only');
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: w.u.dave, role: 'owner', account: null, revision: 2 })]))).toMatchObject({ accepted: 1 });
    expect(await roleOf(w.vault, w.u.dave)).toBe('owner');
  });

  it('a role record naming a permission twice is refused; so is a redefinition spelt otherwise (a CONFLICT at a stale base)', async () => {
    const w = await world();
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [roleRecord(w.vault, w.u.owner, 'Night shift', ['entries.view', 'otp.view', 'entries.view'], 1, 0)])))
      .toMatchObject({ code: 'INVALID_INPUT' });
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [roleRecord(w.vault, w.u.owner, 'helpdesk', ['entries.view'], 2, 1)]))).toMatchObject({ code: 'INVALID_INPUT' });
    const stale = await owner.client.ok('syncPush', pushOf(w.vault, [roleRecord(w.vault, w.u.owner, 'help-desk', ['entries.view'], 1, 0)]));
    expect(stale).toMatchObject({ accepted: 0, conflicts: [{ revision: 1 }] });
    // Bob, given Helpdesk under its one spelling, keeps its permissions: he still sets dave.
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [roleRecord(w.vault, w.u.owner, 'Helpdesk', ['entries.view', 'otp.view', 'users.manage', 'audit.read'], 2, 1)]))).toMatchObject({ accepted: 1 });
    expect(await bob.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.bob, { id: w.u.dave, role: 'codes_only', account: null, revision: 2, disabled: true })]))).toMatchObject({ accepted: 1 });
  });

  it('a role defined in the same push is given as spelt, and only so', async () => {
    const w = await world();
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [
      roleRecord(w.vault, w.u.owner, 'Night shift', ['entries.view'], 1, 0), userRecord(w.u.owner, { id: w.u.dave, role: 'night shift', account: null, revision: 2 }),
    ]))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: w.u.dave, role: 'Night shift', account: null, revision: 2 })])))
      .toMatchObject({ code: 'INVALID_INPUT' }); // no record of it here yet
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [
      roleRecord(w.vault, w.u.owner, 'Night shift', ['entries.view'], 1, 0), userRecord(w.u.owner, { id: w.u.dave, role: 'Night shift', account: null, revision: 2 }),
    ]))).toMatchObject({ accepted: 2 });
    expect(await roleOf(w.vault, w.u.dave)).toBe('Night shift');
  });

  it('an MFA policy names each role once, as spelt, and only roles there are', async () => {
    const w = await world();
    for (const roles of [
      [['Helpdesk', 'required'], ['helpdesk', 'off']], [['Helpdesk', 'required'], ['Help desk', 'off']], [['team_lead', 'required'], ['team_lead', 'off']],
      [['codes_only', 'off'], ['Codes only', 'required']], [['helpdesk', 'required']], [['Nobody', 'required']], [['Helpdesk ', 'required']],
    ] as const) {
      const error = await admin.client.fails('syncPush', pushOf(w.vault, [policyRecord(w.vault, w.u.admin, 1, 0, 'optional', roles.map(([r, l]) => [r, l]))]));
      expect(error, JSON.stringify(roles)).toMatchObject({ code: 'INVALID_INPUT' });
    }
    expect(await admin.client.ok('syncPush', pushOf(w.vault, [policyRecord(w.vault, w.u.admin, 1, 0, 'optional', [['Helpdesk', 'required'], ['team_lead', 'off']])]))).toMatchObject({ accepted: 1 });
  });

  it('a record stored before its shape was refused (a role spelt otherwise) is left out of a pull, not a failed page', async () => {
    const w = await world();
    const pulled = async (): Promise<string[]> => (await owner.client.ok('syncPull', { vault: w.vault, since: 0 })).records.flatMap((r) => (r.record.kind === 'user' ? [r.record.id] : []));
    expect(await pulled()).toContain(w.u.dave);
    // What the server stored of Helpdesk's "Owner" before this change, written as it would have stored it.
    await server.db.query(`UPDATE sync_records SET body = jsonb_set(body::jsonb, '{role}', '"Owner"') WHERE vault_id = $1 AND record_id = $2`, [w.vault, w.u.dave]);
    const after = await pulled();
    expect(after).not.toContain(w.u.dave);
    expect(after).toEqual(expect.arrayContaining([w.u.owner, w.u.admin, w.u.bob]));
  });
});
