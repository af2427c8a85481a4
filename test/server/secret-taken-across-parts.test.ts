/**
 * Finding D6 (class: a rule judged per push part, where a push is split in parts). The server
 * refused a push that took a member's secret key at a group's current version without moving the
 * version (review 13a hole 5), but judged it by what one part changed: the key taken in one part
 * and the member given back the list key alone at the same version in the next was stored, and so
 * was the server-codes setting turned off, the member re-wrapped list-only, and the setting turned
 * on again. Either way a technician of a server-codes group holds the list key alone while holding
 * the group's current secret key, which opens every OTP key written there next. The server now
 * judges the state a push leaves against the highest version each member held the secret key at
 * (`sync_secret_key_held`, schema 30): such a push is refused (FORBIDDEN, nothing stored). A
 * rotation taking the key, whole or split (who is who first, the re-wraps after), is stored.
 * Real HTTP on loopback, PGlite and PostgreSQL. Must never print a key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MemberRecord, ReplicaRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, seqOf, serverWithPeople, userRecord, vaultUsers } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const TAKEN = 'without moving the group to a new key version';

function withSecret(record: MemberRecord): MemberRecord {
  return { ...record, wrappedSecretKey: b64(`secret key for ${record.user} at ${record.keyVersion}`) };
}

describe.each(DATABASE_KINDS)('a secret key taken across push parts without a rotation (finding D6), on %s', (kind) => {
  /** A vault whose group G computes codes on the server; tech (a technician) holds its secret key at version 1, owner and lead both keys too. */
  async function world(): Promise<{ server: TestServer; push: (records: ReplicaRecord[]) => Promise<string>; techIn: () => Promise<{ keyVersion: number; secret: boolean } | undefined>; u: Record<'owner' | 'tech', string>; g: string; vault: string; tech: Person }> {
    const { server, owner, people: { tech } } = await serverWithPeople(await databases.open(kind), ['tech']);
    const vault = randomBytes(16).toString('hex');
    const u = { owner: randomUUID(), tech: randomUUID() };
    const g = randomUUID();
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.tech, 'technician', tech]]),
      groupRecord(u.owner, { id: g, keyVersion: 1, serverCodes: true }),
      withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 })),
      entryIn(u.owner, g),
    ]));
    const push = async (records: ReplicaRecord[]): Promise<string> => {
      const reply = await owner.client.call('syncPush', pushOf(vault, records));
      return reply.ok ? 'stored' : `${reply.error.code}: ${reply.error.message}`;
    };
    const techIn = async (): Promise<{ keyVersion: number; secret: boolean } | undefined> => {
      const [row] = await server.db.query('SELECT key_version, wrapped FROM sync_members WHERE vault_id = $1 AND group_id = $2 AND vault_user = $3', [vault, g, u.tech]);
      return row === undefined ? undefined : { keyVersion: Number(row.key_version), secret: (JSON.parse(String(row.wrapped)) as [string, string | null])[1] !== null };
    };
    return { server, push, techIn, u, g, vault, tech };
  }

  it('refuses the key taken in one part (a revoke) and the list key alone given back at the same version in the next, storing nothing of the second', async () => {
    const { server, push, techIn, u, g, vault } = await world();
    expect(await push([memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1, revoked: true, revision: 2 })])).toBe('stored');
    const before = await seqOf(server, vault);
    const back = await push([memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1, revision: 3 })]);
    expect({ back, tech: await techIn(), seq: await seqOf(server, vault) }).toEqual({ back: expect.stringMatching(new RegExp(`^FORBIDDEN: .*${TAKEN}`)) as unknown, tech: undefined, seq: before });
  }, 60_000);

  it('refuses the setting turned on again around a list-only re-wrap made while it was off, storing nothing', async () => {
    const { server, push, techIn, u, g, vault } = await world();
    expect(await push([groupRecord(u.owner, { id: g, keyVersion: 1, revision: 2, serverCodes: false })])).toBe('stored');
    expect(await push([memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1, revision: 2 })])).toBe('stored');
    const before = await seqOf(server, vault);
    const on = await push([groupRecord(u.owner, { id: g, keyVersion: 1, revision: 3, serverCodes: true })]);
    const setOn = await server.db.query('SELECT 1 FROM server_code_groups WHERE vault_id = $1 AND group_id = $2', [vault, g]);
    expect({ on, setOn: setOn.length, tech: await techIn(), seq: await seqOf(server, vault) })
      .toEqual({ on: expect.stringMatching(new RegExp(`^FORBIDDEN: .*${TAKEN}`)) as unknown, setOn: 0, tech: { keyVersion: 1, secret: false }, seq: before });
    // Turned on with the rotation that moves the version, it is stored.
    expect(await push([groupRecord(u.owner, { id: g, keyVersion: 2, revision: 4, serverCodes: true }), memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 2 })])).toBe('stored');
  }, 60_000);

  it('still refuses the key taken at the same version in one push, and stores it taken by a rotation, whole or in parts', async () => {
    const { push, techIn, u, g } = await world();
    expect(await push([memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1, revision: 2 })])).toContain(TAKEN);
    // In parts, as a desktop splits it: the rotation's group record first, the re-wrap list-only at the new version next.
    expect(await push([groupRecord(u.owner, { id: g, keyVersion: 2 })])).toBe('stored');
    expect(await techIn()).toBeUndefined();
    expect(await push([memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 2 })])).toBe('stored');
    expect(await techIn()).toEqual({ keyVersion: 2, secret: false });
    // Given the key at version 2 and taken again by a whole rotation to 3.
    expect(await push([withSecret(memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 2, revision: 3 }))])).toBe('stored');
    expect(await push([groupRecord(u.owner, { id: g, keyVersion: 3 }), memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 3 })])).toBe('stored');
    expect(await techIn()).toEqual({ keyVersion: 3, secret: false });
  }, 60_000);

  it('stores a demotion to codes-only pushed in the part that rotates, and refuses it without the rotation', async () => {
    const { push, techIn, u, g, tech } = await world();
    const demotion = userRecord(u.owner, { id: u.tech, role: 'codes_only', account: tech.user.id, revision: 2 });
    expect(await push([demotion])).toMatch(/^FORBIDDEN: /);
    expect(await push([demotion, groupRecord(u.owner, { id: g, keyVersion: 2 })])).toBe('stored');
    expect(await push([memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 2 })])).toBe('stored');
    expect(await techIn()).toEqual({ keyVersion: 2, secret: false });
  }, 60_000);
});
