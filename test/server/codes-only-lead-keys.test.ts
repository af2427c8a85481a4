/**
 * Review finding D4 (class: who may make or hand out a group's secret key). A lead whose role may not
 * hold a group's secret key there — a codes-only lead (entries.view, otp.view, groups.manage) of a
 * group whose codes the server computes, who holds its list key alone — managed the group and so
 * could rotate it (a new secret key, wrapped for everyone, its maker knowing it) or wrap its secret
 * key for someone granted. Both need the secret key: the server refuses them (FORBIDDEN, one line)
 * unless the pusher's role may hold it there (shared/policy mayHoldSecretKeyIn). The same lead
 * still grants the list key alone, and rotates a group of its whose codes desktops compute.
 * Real HTTP on loopback, PGlite. Must never print a key.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../shared/policy';
import { vaultObjectId, type MemberRecord, type RoleRecord } from '../../shared/sync/records';
import { useTestDatabases } from './databases';
import { groupRecord, memberRecord, pushOf, serverWithPeople, vaultUsers } from './people';
import type { Person } from './support';

const databases = useTestDatabases();
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const CODES_ONLY_LEAD: Permission[] = ['entries.view', 'otp.view', 'groups.manage'];

function roleRecord(vault: string, author: string, name: string, permissions: Permission[]): RoleRecord {
  return { kind: 'role', id: vaultObjectId(vault, 'role', sha256Hex, name), revision: 1, base: 0, name, permissions, author, signerKey: author, signature: b64('signature') };
}

function withSecret(record: MemberRecord): MemberRecord {
  return { ...record, wrappedSecretKey: b64(`secret key for ${record.user}`) };
}

describe('a lead whose role may not hold a group\'s secret key (D4)', () => {
  let owner: Person;
  let lead: Person;
  let tech: Person;
  let newbie: Person;
  let cody: Person;
  const vault = randomBytes(16).toString('hex');
  const u = { owner: randomUUID(), lead: randomUUID(), tech: randomUUID(), newbie: randomUUID(), cody: randomUUID() };
  const g = randomUUID();
  const h = randomUUID();

  beforeAll(async () => {
    ({ owner, people: { lead, tech, newbie, cody } } = await serverWithPeople(await databases.open('pglite'), ['lead', 'tech', 'newbie', 'cody']));
    // G: server codes, the Codelead a lead of it with the list key alone. H: desktops compute codes, the Codelead holds its secret key.
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Codelead', CODES_ONLY_LEAD),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.lead, 'Codelead', lead], [u.tech, 'technician', tech], [u.newbie, 'technician', newbie], [u.cody, 'codes_only', cody]]),
      groupRecord(u.owner, { id: g, keyVersion: 1, serverCodes: true }),
      memberRecord(u.owner, { group: g, user: u.lead, keyVersion: 1, lead: true }),
      withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 })),
      groupRecord(u.owner, { id: h, keyVersion: 1 }),
      withSecret(memberRecord(u.owner, { group: h, user: u.lead, keyVersion: 1, lead: true })),
      withSecret(memberRecord(u.owner, { group: h, user: u.tech, keyVersion: 1 })),
    ]));
  }, 120_000);

  it('refuses its rotation of the server-codes group (a new secret key, wrapped for the technician)', async () => {
    const reply = await lead.client.call('syncPush', pushOf(vault, [
      groupRecord(u.lead, { id: g, keyVersion: 2 }),
      memberRecord(u.lead, { group: g, user: u.lead, keyVersion: 2, lead: true }),
      withSecret(memberRecord(u.lead, { group: g, user: u.tech, keyVersion: 2 })),
    ]));
    expect(reply.ok ? 'stored' : reply.error.code).toBe('FORBIDDEN');
    if (!reply.ok) expect(reply.error.message).not.toContain('\n');
  });

  it('refuses its rotation that cuts everyone else off (no secret key wrapped at all)', async () => {
    const reply = await lead.client.call('syncPush', pushOf(vault, [
      groupRecord(u.lead, { id: g, keyVersion: 2 }),
      memberRecord(u.lead, { group: g, user: u.lead, keyVersion: 2, lead: true }),
    ]));
    expect(reply.ok ? 'stored' : reply.error.code).toBe('FORBIDDEN');
  });

  it('refuses its grant wrapping the secret key for a technician', async () => {
    const reply = await lead.client.call('syncPush', pushOf(vault, [withSecret(memberRecord(u.lead, { group: g, user: u.newbie, keyVersion: 1 }))]));
    expect(reply.ok ? 'stored' : reply.error.code).toBe('FORBIDDEN');
  });

  it('control: it still grants the list key alone there, and rotates a group whose codes desktops compute', async () => {
    await lead.client.ok('syncPush', pushOf(vault, [memberRecord(u.lead, { group: g, user: u.cody, keyVersion: 1 })]));
    await lead.client.ok('syncPush', pushOf(vault, [
      groupRecord(u.lead, { id: h, keyVersion: 2 }),
      withSecret(memberRecord(u.lead, { group: h, user: u.lead, keyVersion: 2, lead: true })),
      withSecret(memberRecord(u.lead, { group: h, user: u.tech, keyVersion: 2 })),
    ]));
  });

  it('control: an owner rotates the server-codes group', async () => {
    await owner.client.ok('syncPush', pushOf(vault, [
      groupRecord(u.owner, { id: g, keyVersion: 2 }),
      memberRecord(u.owner, { group: g, user: u.lead, keyVersion: 2, lead: true }),
      withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 2 })),
    ]));
  });
});
