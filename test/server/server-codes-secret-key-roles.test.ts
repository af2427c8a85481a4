/**
 * Review finding D2 (class: who holds a group's secret key where the server computes its codes).
 * The rule read "codes-only" as a role whose only secret-key permission is otp.view, so a custom
 * role with passwords.reveal and otp.view (no otp.reveal_secret) — or one that reveals passwords
 * alone — was wrapped the group's secret key, which opens the OTP keys the setting keeps from it.
 * Now (shared/policy mayHoldSecretKeyIn) only a role with otp.reveal_secret holds it there: the
 * server refuses a push wrapping it for either custom role, and the setting turned on while one of
 * them holds it without the rotation that takes it away. Controls: the list key alone for them, and
 * the secret key for a technician, are stored. Real HTTP on loopback, PGlite. Must never print a key.
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
const DESK: Permission[] = ['entries.view', 'passwords.reveal', 'otp.view'];
const PASSWORDS: Permission[] = ['entries.view', 'passwords.reveal'];

function roleRecord(vault: string, author: string, name: string, permissions: Permission[]): RoleRecord {
  return { kind: 'role', id: vaultObjectId(vault, 'role', sha256Hex, name), revision: 1, base: 0, name, permissions, author, signerKey: author, signature: b64('signature') };
}

function withSecret(record: MemberRecord): MemberRecord {
  return { ...record, wrappedSecretKey: b64(`secret key for ${record.user}`) };
}

describe('roles that may not reveal OTP keys hold no secret key of a server-codes group (D2)', () => {
  let owner: Person;
  const vault = randomBytes(16).toString('hex');
  const u = { owner: randomUUID(), desk: randomUUID(), pass: randomUUID(), tech: randomUUID() };
  const g = randomUUID();
  const h = randomUUID();

  beforeAll(async () => {
    let people: Record<'desk' | 'pass' | 'tech', Person>;
    ({ owner, people } = await serverWithPeople(await databases.open('pglite'), ['desk', 'pass', 'tech']));
    // G: server codes, nobody but the owner in it yet. H: desktops compute codes, Deskpass holds its secret key.
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Deskpass', DESK),
      roleRecord(vault, u.owner, 'Passwords', PASSWORDS),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.desk, 'Deskpass', people.desk], [u.pass, 'Passwords', people.pass], [u.tech, 'technician', people.tech]]),
      groupRecord(u.owner, { id: g, keyVersion: 1, serverCodes: true }),
      groupRecord(u.owner, { id: h, keyVersion: 1 }),
      withSecret(memberRecord(u.owner, { group: h, user: u.desk, keyVersion: 1 })),
    ]));
  }, 120_000);

  it('refuses a wrap of the secret key for a role with passwords.reveal and otp.view, no otp.reveal_secret', async () => {
    const reply = await owner.client.call('syncPush', pushOf(vault, [withSecret(memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 1 }))]));
    expect(reply.ok ? 'stored' : reply.error.code).toBe('FORBIDDEN');
  });

  it('refuses a wrap of the secret key for a password-only role', async () => {
    const reply = await owner.client.call('syncPush', pushOf(vault, [withSecret(memberRecord(u.owner, { group: g, user: u.pass, keyVersion: 1 }))]));
    expect(reply.ok ? 'stored' : reply.error.code).toBe('FORBIDDEN');
  });

  it('refuses the setting turned on while such a role holds the secret key, without the rotation', async () => {
    const reply = await owner.client.call('syncPush', pushOf(vault, [groupRecord(u.owner, { id: h, keyVersion: 1, revision: 2, serverCodes: true })]));
    expect(reply.ok ? 'stored' : reply.error.code).toBe('FORBIDDEN');
  });

  it('control: the list key alone for them, the secret key for a technician, are stored; the setting goes on with the rotation', async () => {
    await owner.client.ok('syncPush', pushOf(vault, [
      memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 1 }),
      memberRecord(u.owner, { group: g, user: u.pass, keyVersion: 1 }),
      withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 })),
    ]));
    await owner.client.ok('syncPush', pushOf(vault, [
      groupRecord(u.owner, { id: h, keyVersion: 2, serverCodes: true }),
      memberRecord(u.owner, { group: h, user: u.desk, keyVersion: 2 }),
    ]));
  });
});
