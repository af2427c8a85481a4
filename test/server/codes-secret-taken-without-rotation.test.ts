/**
 * Review round thirteen (a), hole 5 (class: the server judges a codes-only member's wrap as it stands
 * after a push, never whether the secret key they held is retired). A technician of a group set to
 * "server computes codes" holds its secret key at version 1. A push that makes them codes_only and
 * re-wraps them at the SAME version without the secret key (no rotation) is stored: the server's rule
 * ("a member made codes-only without re-wrapping" refused) is met, yet the secret key they hold is the
 * group's current one, and every OTP key written into the group afterwards (at version 1, which the
 * server keeps taking) opens with it. Honest desktops rotate here (team.ts followRole), so this needs
 * a desktop that does not (an old or altered one of an owner or admin). Expected: a push that takes a
 * held secret key from a codes-only member of such a group moves the group's key version, or is refused.
 * Real HTTP on loopback, PGlite. Must never print a key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, userRecord, vaultUsers } from './people';
import type { Person } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

describe('a demotion to codes-only in a group set to server codes, without a rotation (review 13a hole 5)', () => {
  let owner: Person;
  let tech: Person;
  const vault = randomBytes(16).toString('hex');
  const u = { owner: randomUUID(), tech: randomUUID() };
  const g = randomUUID();
  beforeAll(async () => {
    ({ owner, people: { tech } } = await serverWithPeople(await databases.open('pglite'), ['tech']));
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(u.owner, [[u.owner, 'owner', owner], [u.tech, 'technician', tech]]),
      groupRecord(u.owner, { id: g, keyVersion: 1, serverCodes: true }),
      { ...memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 }), wrappedSecretKey: b64('secret key for tech at 1') },
      entryIn(u.owner, g),
    ]));
  }, 120_000);

  it('is not stored while the group stays at the version whose secret key they hold', async () => {
    const reply = await owner.client.call('syncPush', pushOf(vault, [
      userRecord(u.owner, { id: u.tech, role: 'codes_only', account: tech.user.id, revision: 2 }),
      { ...memberRecord(u.owner, { group: g, user: u.tech, keyVersion: 1 }), revision: 2 },
    ]));
    // What the server would then go on taking: a new entry sealed under version 1, whose secret key tech holds.
    const after = reply.ok ? await owner.client.call('syncPush', pushOf(vault, [entryIn(u.owner, g)])) : undefined;
    expect({ demotionStored: reply.ok, entryAtOldVersionStored: after?.ok === true }).toEqual({ demotionStored: false, entryAtOldVersionStored: false });
  });
});
