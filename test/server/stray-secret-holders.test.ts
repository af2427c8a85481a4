/**
 * Review of D2, on the server: a vault whose server-codes group was set before the rule narrowed
 * who holds its secret key (shared/policy mayHoldSecretKeyIn) keeps a wrap of it for a custom role
 * with passwords.reveal and otp.view (Deskpass). The server leaves such a stray wrap be, so the
 * vault's other people pushes go on (they were each refused: a vault-wide lock-out), and refuses a
 * push that adds one: granting it, moving a holder to such a role, a rotation that wraps the new key
 * for them. A rotation giving them the list key alone (what an owner's desktop does at sign-in,
 * team.ts takeStraySecretKeys) is stored. PGlite; refusals read by their message.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../shared/policy';
import type { MemberRecord } from '../../shared/sync/records';
import { useTestDatabases } from './databases';
import { groupRecord, memberRecord, pushOf, roleRecord, serverWithPeople, userRecord, vaultUsers } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const DESK: Permission[] = ['entries.view', 'passwords.reveal', 'otp.view'];
const NOT_HERE = 'may not reveal its OTP keys (otp.reveal_secret)';

function withSecret(record: MemberRecord): MemberRecord {
  return { ...record, wrappedSecretKey: b64(`secret key for ${record.user} at ${record.keyVersion}`) };
}

describe('a stray secret-key wrap in a server-codes group (review of D2)', () => {
  let server: TestServer;
  let owner: Person;
  let people: Record<'desk' | 'dora' | 'tech' | 'newcomer', Person>;
  const vault = randomBytes(16).toString('hex');
  const u = { owner: randomUUID(), desk: randomUUID(), dora: randomUUID(), tech: randomUUID(), newcomer: randomUUID() };
  const g = randomUUID();
  const push = async (records: Parameters<typeof pushOf>[1]): Promise<string> => {
    const reply = await owner.client.call('syncPush', pushOf(vault, records));
    return reply.ok ? 'stored' : `${reply.error.code}: ${reply.error.message}`;
  };
  const secretOf = async (user: string): Promise<{ keyVersion: number; secret: boolean }> => {
    const rows = await server.db.query('SELECT key_version, wrapped FROM sync_members WHERE vault_id = $1 AND group_id = $2 AND vault_user = $3', [vault, g, user]);
    return { keyVersion: Number(rows[0]?.key_version), secret: (JSON.parse(String(rows[0]?.wrapped)) as [string, string | null])[1] !== null };
  };

  beforeAll(async () => {
    ({ server, owner, people } = await serverWithPeople(await databases.open('pglite'), ['desk', 'dora', 'tech', 'newcomer']));
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Deskpass', DESK),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.desk, 'Deskpass', people.desk], [u.dora, 'Deskpass', people.dora], [u.tech, 'technician', people.tech]]),
      groupRecord(u.owner, { id: g, keyVersion: 1 }),
      withSecret(memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 1 })),
      memberRecord(u.owner, { group: g, user: u.dora, keyVersion: 1 }),
      withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 })),
    ]));
    // The state a vault set up before the rule is in: G computes codes on the server, Deskpass holds its secret key.
    await server.db.query('INSERT INTO server_code_groups (vault_id, group_id) VALUES ($1, $2)', [vault, g]);
  }, 120_000);

  it('lets the vault\'s other people pushes through: a user added, the stray holder\'s own record again', async () => {
    expect(await push([userRecord(u.owner, { id: u.newcomer, role: 'technician', account: people.newcomer.user.id })])).toBe('stored');
    expect(await push([userRecord(u.owner, { id: u.desk, role: 'Deskpass', account: people.desk.user.id, revision: 2 })])).toBe('stored');
    expect(await secretOf(u.desk)).toEqual({ keyVersion: 1, secret: true });
  });

  it('refuses the secret key granted to another Deskpass member', async () => {
    expect(await push([withSecret(memberRecord(u.owner, { group: g, user: u.dora, keyVersion: 1, revision: 2 }))])).toContain(NOT_HERE);
    expect(await secretOf(u.dora)).toEqual({ keyVersion: 1, secret: false });
  });

  it('refuses a holder moved to Deskpass', async () => {
    expect(await push([userRecord(u.owner, { id: u.tech, role: 'Deskpass', account: people.tech.user.id, revision: 2 })])).toContain(NOT_HERE);
  });

  it('refuses a rotation that wraps the new secret key for the stray holder', async () => {
    expect(await push([
      groupRecord(u.owner, { id: g, keyVersion: 2 }),
      withSecret(memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 2 })),
      memberRecord(u.owner, { group: g, user: u.dora, keyVersion: 2 }),
      withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 2 })),
    ])).toContain(NOT_HERE);
    expect(await secretOf(u.desk)).toEqual({ keyVersion: 1, secret: true });
  });

  it('stores the rotation that gives them the list key alone: the stray wrap is gone', async () => {
    expect(await push([
      groupRecord(u.owner, { id: g, keyVersion: 2 }),
      memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 2 }),
      memberRecord(u.owner, { group: g, user: u.dora, keyVersion: 2 }),
      withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 2 })),
    ])).toBe('stored');
    expect(await secretOf(u.desk)).toEqual({ keyVersion: 2, secret: false });
    expect(await secretOf(u.tech)).toEqual({ keyVersion: 2, secret: true });
  });
});
