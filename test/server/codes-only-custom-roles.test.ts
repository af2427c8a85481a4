/**
 * Review round thirteen (a), hole 1 (class: the server's codes-only rules read only the built-in
 * roles, though since task 15 the server holds every custom role's permissions as a signed `role`
 * record and judges writes by them). A custom role that may see codes but not keys (Helpdesk:
 * entries.view, otp.view — exactly codes_only) is codes-only on every desktop (group-keys.ts
 * needsSecretKeyIn), but on the server (server/codes/group-setting.ts CODES_ONLY_ROLES, and
 * server/codes/service.ts computeCode):
 *  1. a team lead's member record wrapping the group's SECRET key for a Helpdesk member of a group
 *     set to "server computes codes" is stored (the same record for a codes_only member is refused);
 *  2. an owner's role record turning a custom role codes-only, its holder still wrapped the secret
 *     key at the current version (no rotation), is stored (the same as a user record is refused);
 *  3. the Helpdesk member asks the server for the code and is refused (FORBIDDEN, "needs otp.view"),
 *     so a custom codes-only member gets neither the key nor the code.
 * Each case has its built-in control, which passes today. Real HTTP on loopback, PGlite.
 * Must never: print a key or a code.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeSecret, type OtpParams } from '../../shared/otp';
import type { Permission } from '../../shared/policy';
import { vaultObjectId, type RoleRecord } from '../../shared/sync/records';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, vaultUsers } from './people';
import type { Person } from './support';

const databases = useTestDatabases();
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const CODES_ONLY_PERMISSIONS: Permission[] = ['entries.view', 'otp.view'];
const FIELD_PERMISSIONS: Permission[] = ['entries.view', 'passwords.reveal', 'otp.view', 'otp.reveal_secret', 'entries.create', 'entries.edit', 'entries.delete'];

function roleRecord(vault: string, author: string, name: string, permissions: Permission[], revision: number, base: number): RoleRecord {
  return { kind: 'role', id: vaultObjectId(vault, 'role', sha256Hex, name), revision, base, name, permissions, author, signerKey: author, signature: b64('signature') };
}

function totp(): OtpParams {
  return { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 };
}

describe('the server\'s codes-only rules and a custom codes-only role (review 13a hole 1)', () => {
  let owner: Person;
  let lead: Person;
  let helper: Person;
  let cody: Person;
  let fieldy: Person;
  const vault = randomBytes(16).toString('hex');
  const u = { owner: randomUUID(), lead: randomUUID(), helper: randomUUID(), cody: randomUUID(), fieldy: randomUUID() };
  const g = randomUUID();
  const entry = entryIn(u.owner, g);

  beforeAll(async () => {
    ({ owner, people: { lead, helper, cody, fieldy } } = await serverWithPeople(await databases.open('pglite'), ['lead', 'helper', 'cody', 'fieldy']));
    // The owner's vault: Helpdesk (codes-only by its permissions), Fieldtech (a technician's), G set to server codes.
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Helpdesk', CODES_ONLY_PERMISSIONS, 1, 0),
      roleRecord(vault, u.owner, 'Fieldtech', FIELD_PERMISSIONS, 1, 0),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.lead, 'team_lead', lead], [u.helper, 'Helpdesk', helper], [u.cody, 'codes_only', cody], [u.fieldy, 'Fieldtech', fieldy]]),
      groupRecord(u.owner, { id: g, keyVersion: 1, serverCodes: true }),
      memberRecord(u.owner, { group: g, user: u.lead, keyVersion: 1, lead: true }),
      { ...memberRecord(u.owner, { group: g, user: u.fieldy, keyVersion: 1 }), wrappedSecretKey: b64('secret key for fieldy') },
      entry,
    ]));
    const key = serverCodePublicKey((await lead.client.ok('codesKey', undefined)).publicKey);
    await lead.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry: entry.id, group: g, keyVersion: 1, sealed: sealCodeKeyForServer(key, { vault, entry: entry.id, group: g, keyVersion: 1 }, totp()) }] });
  }, 120_000);

  it('control: a lead\'s grant wrapping the secret key for a codes_only member is refused', async () => {
    const grant = { ...memberRecord(u.lead, { group: g, user: u.cody, keyVersion: 1 }), wrappedSecretKey: b64('secret key for cody') };
    expect(await lead.client.fails('syncPush', pushOf(vault, [grant]))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('1. refuses a lead\'s grant wrapping the secret key for a member of a custom codes-only role', async () => {
    const grant = { ...memberRecord(u.lead, { group: g, user: u.helper, keyVersion: 1 }), wrappedSecretKey: b64('secret key for helper') };
    const reply = await lead.client.call('syncPush', pushOf(vault, [grant]));
    expect(reply.ok ? 'stored' : reply.error.code).toBe('FORBIDDEN');
  });

  it('2. refuses a role record that makes a holder of the secret key codes-only without a rotation (as a user record is)', async () => {
    const [held] = await owner.client.ok('syncPull', { vault, since: 0 }).then((p) => p.records.filter((r) => r.record.kind === 'member' && r.record.user === u.fieldy));
    expect(held?.record.kind === 'member' && held.record.wrappedSecretKey !== null).toBe(true);
    const reply = await owner.client.call('syncPush', pushOf(vault, [roleRecord(vault, u.owner, 'Fieldtech', CODES_ONLY_PERMISSIONS, 2, 1)]));
    expect(reply.ok ? 'stored' : reply.error.code).toBe('FORBIDDEN');
  });

  it('3. gives a member of a custom codes-only role the code, as it gives a codes_only member', async () => {
    // The Helpdesk member joins G as every desktop wraps it for them: the list key only.
    await lead.client.ok('syncPush', pushOf(vault, [memberRecord(u.lead, { group: g, user: u.cody, keyVersion: 1 })]));
    await owner.client.ok('syncPush', pushOf(vault, [{ ...memberRecord(u.owner, { group: g, user: u.helper, keyVersion: 1 }), revision: 5 }]));
    expect((await cody.client.ok('codes', { vault, entry: entry.id })).code).toMatch(/^\d{6}$/);
    const reply = await helper.client.call('codes', { vault, entry: entry.id });
    expect(reply.ok ? 'a code' : `${reply.error.code}: ${reply.error.message}`).toBe('a code');
  });
});
