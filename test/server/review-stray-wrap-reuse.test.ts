/**
 * Review probe (hostile review 2, change 693aeff): the server leaves a stray secret-key wrap of a
 * server-codes group be when it is named by the same "group user keyVersion" before and after a
 * push. That names a vault user, not the key pair the wrap is sealed to: a push that rebinds the
 * stray holder's vault user to another account and public key, and wraps the group's secret key
 * again for that key at the same version, hands the secret key to a new codes-only person and is
 * stored. So is the stray wrap replaced at the same version by one sealed to anyone's key (the
 * server cannot tell to whom a wrap is sealed). Expected: refused (FORBIDDEN), as a grant to any
 * other Deskpass member is: a push that writes a secret-key wrap for a role that may not hold it.
 * Owner (the rebind: binding an account is an owner's) and admin (the re-seal): membership.ts
 * judges no secret wrap an owner or admin writes, so group-setting.ts is the only guard. PGlite.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../shared/policy';
import type { MemberRecord, UserRecord } from '../../shared/sync/records';
import { useTestDatabases } from './databases';
import { groupRecord, memberRecord, pushOf, roleRecord, serverWithPeople, userRecord, vaultUsers } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const DESK: Permission[] = ['entries.view', 'passwords.reveal', 'otp.view'];
const NOT_HERE = 'may not reveal its OTP keys (otp.reveal_secret)';

function withSecret(record: MemberRecord, sealedTo: string): MemberRecord {
  return { ...record, wrappedKey: b64(`list key for ${sealedTo}`), wrappedSecretKey: b64(`secret key at ${record.keyVersion} for ${sealedTo}`) };
}

describe('review probe: a stray wrap\'s "group user keyVersion" re-used for another key pair', () => {
  let server: TestServer;
  let owner: Person;
  let people: Record<'desk' | 'dora' | 'eve' | 'ada', Person>;
  beforeAll(async () => {
    ({ server, owner, people } = await serverWithPeople(await databases.open('pglite'), ['desk', 'dora', 'eve', 'ada']));
  }, 120_000);

  /** A vault set up before the rule: G computes codes on the server, Deskpass (codes-only) Desk holds its secret key, Deskpass Dora the list key alone. */
  async function legacyVault(): Promise<{ vault: string; g: string; u: Record<'owner' | 'desk' | 'dora' | 'ada', string>; push: (records: Parameters<typeof pushOf>[1]) => Promise<string>; wrappedOf: (user: string) => Promise<string> }> {
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), desk: randomUUID(), dora: randomUUID(), ada: randomUUID() };
    const g = randomUUID();
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Deskpass', DESK),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.desk, 'Deskpass', people.desk], [u.dora, 'Deskpass', people.dora], [u.ada, 'admin', people.ada]]),
      groupRecord(u.owner, { id: g, keyVersion: 1 }),
      withSecret(memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 1 }), 'desk'),
      memberRecord(u.owner, { group: g, user: u.dora, keyVersion: 1 }),
    ]));
    await server.db.query('INSERT INTO server_code_groups (vault_id, group_id) VALUES ($1, $2)', [vault, g]);
    const push = async (records: Parameters<typeof pushOf>[1]): Promise<string> => {
      const reply = await owner.client.call('syncPush', pushOf(vault, records));
      return reply.ok ? 'stored' : `${reply.error.code}: ${reply.error.message}`;
    };
    const wrappedOf = async (user: string): Promise<string> => {
      const [row] = await server.db.query('SELECT wrapped FROM sync_members WHERE vault_id = $1 AND group_id = $2 AND vault_user = $3', [vault, g, user]);
      return String(row?.wrapped);
    };
    return { vault, g, u, push, wrappedOf };
  }

  it('refuses the stray holder\'s vault user rebound to another account and key pair with the secret key wrapped for it again', async () => {
    const { g, u, push, wrappedOf } = await legacyVault();
    const rebound: UserRecord = { ...userRecord(u.owner, { id: u.desk, role: 'Deskpass', account: people.eve.user.id, revision: 2 }), publicKey: b64('eve\'s public key') };
    const regranted = withSecret(memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 1, revision: 2 }), 'eve');
    expect(await push([rebound, regranted])).toContain(NOT_HERE);
    expect(await wrappedOf(u.desk)).not.toContain(b64('secret key at 1 for eve'));
  });

  it('refuses the stray wrap replaced at the same version by one sealed to another member (who pulls others\' member records of G)', async () => {
    const { vault, g, u, push } = await legacyVault();
    // Sealed to Dora's key (she holds G's list key alone), stored under Desk's membership: the server cannot tell, and hands it to G's members.
    const result = await push([withSecret(memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 1, revision: 2 }), 'dora')]);
    const pulled = await people.dora.client.ok('syncPull', { vault, since: 0 });
    const handed = pulled.records.flatMap(({ record }) => (record.kind === 'member' && record.group === g && record.wrappedSecretKey !== null ? [record.wrappedSecretKey] : []));
    // Dora (Deskpass, list key alone in G) is handed a secret-key wrap of G sealed to her.
    expect({ result, handed }).toEqual({ result: expect.stringContaining(NOT_HERE) as unknown, handed: [b64('secret key at 1 for desk')] });
  });

  it('refuses the same re-seal from an admin (membership.ts judges no secret wrap of an owner\'s or admin\'s: group-setting.ts is the only guard)', async () => {
    const { vault, g, u } = await legacyVault();
    const reply = await people.ada.client.call('syncPush', pushOf(vault, [withSecret(memberRecord(u.ada, { group: g, user: u.desk, keyVersion: 1, revision: 2 }), 'dora')]));
    expect(reply.ok ? 'stored' : `${reply.error.code}: ${reply.error.message}`).toContain(NOT_HERE);
  });
});
