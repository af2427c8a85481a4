/**
 * Review finding D2, the writes: in a group whose codes the server computes, a role without
 * otp.reveal_secret holds the list key alone (shared/policy mayHoldSecretKeyIn), so its
 * entries.create and entries.edit do not work there: the server refuses its entry records there
 * (one it cannot have sealed under the secret key it lacks) and its hand-over of an entry's OTP key
 * (it cannot have opened it). Its writes in a group whose codes desktops compute still go; a
 * technician's go in both. Real HTTP on loopback, PGlite. Must never print a key or a code.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeSecret, type OtpParams } from '../../shared/otp';
import type { Permission } from '../../shared/policy';
import { vaultObjectId, type EntryRecord, type MemberRecord, type RoleRecord } from '../../shared/sync/records';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, vaultUsers } from './people';
import type { Person } from './support';

const databases = useTestDatabases();
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const DESK_EDIT: Permission[] = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];

function roleRecord(vault: string, author: string, name: string, permissions: Permission[]): RoleRecord {
  return { kind: 'role', id: vaultObjectId(vault, 'role', sha256Hex, name), revision: 1, base: 0, name, permissions, author, signerKey: author, signature: b64('signature') };
}

function withSecret(record: MemberRecord): MemberRecord {
  return { ...record, wrappedSecretKey: b64(`secret key for ${record.user}`) };
}

function totp(): OtpParams {
  return { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 };
}

describe('a role without otp.reveal_secret writes nothing in a server-codes group (D2)', () => {
  let owner: Person;
  let desk: Person;
  let tech: Person;
  const vault = randomBytes(16).toString('hex');
  const u = { owner: randomUUID(), desk: randomUUID(), tech: randomUUID() };
  const g = randomUUID();
  const h = randomUUID();
  const entry = entryIn(u.owner, g);

  const edited = (author: string, revision: number): EntryRecord => ({ ...entryIn(author, g, { id: entry.id, revision, base: revision - 1 }), customer: entry.customer });
  const seal = async (who: Person): Promise<{ ok: boolean; code?: string }> => {
    const key = serverCodePublicKey((await who.client.ok('codesKey', undefined)).publicKey);
    const reply = await who.client.call('codesSeal', { vault, records: [{ kind: 'server_code', entry: entry.id, group: g, keyVersion: 1, sealed: sealCodeKeyForServer(key, { vault, entry: entry.id, group: g, keyVersion: 1 }, totp()) }] });
    return reply.ok ? { ok: true } : { ok: false, code: reply.error.code };
  };

  beforeAll(async () => {
    ({ owner, people: { desk, tech } } = await serverWithPeople(await databases.open('pglite'), ['desk', 'tech']));
    await owner.client.ok('syncPush', pushOf(vault, [
      roleRecord(vault, u.owner, 'Deskedit', DESK_EDIT),
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.desk, 'Deskedit', desk], [u.tech, 'technician', tech]]),
      groupRecord(u.owner, { id: g, keyVersion: 1, serverCodes: true }),
      memberRecord(u.owner, { group: g, user: u.desk, keyVersion: 1 }),
      withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 })),
      groupRecord(u.owner, { id: h, keyVersion: 1 }),
      withSecret(memberRecord(u.owner, { group: h, user: u.desk, keyVersion: 1 })),
      entry,
    ]));
  }, 120_000);

  it('refuses its new entry and its edit there', async () => {
    const created = await desk.client.call('syncPush', pushOf(vault, [entryIn(u.desk, g)]));
    expect(created.ok ? 'stored' : created.error.code).toBe('FORBIDDEN');
    const changed = await desk.client.call('syncPush', pushOf(vault, [edited(u.desk, 2)]));
    expect(changed.ok ? 'stored' : changed.error.code).toBe('FORBIDDEN');
  });

  it('refuses its hand-over of an entry\'s OTP key there', async () => {
    expect(await seal(desk)).toEqual({ ok: false, code: 'FORBIDDEN' });
  });

  it('control: it writes where desktops compute codes; a technician writes and hands keys over in the server-codes group', async () => {
    await desk.client.ok('syncPush', pushOf(vault, [entryIn(u.desk, h)]));
    await tech.client.ok('syncPush', pushOf(vault, [edited(u.tech, 2)]));
    expect(await seal(tech)).toEqual({ ok: true });
  });
});
