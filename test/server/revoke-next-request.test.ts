/**
 * Every ending of a right is seen by the very next request (#15, the speed work on codes): a
 * codes-only member gets a code, then one act ends their right, and their next POST /v1/codes,
 * made at once, is refused. The acts: signing out, signing out everywhere from another device, an
 * owner removing the device, an owner resetting their second step, the MFA policy turned to
 * required (they have no authenticator), the person disabled in the vault, their membership
 * revoked, the group moved to a new key version they are not wrapped at. On PostgreSQL and PGlite,
 * over real HTTP. The server caches no session, membership or standing: this file holds it to that.
 *
 * Must never: wait or sleep between the act and the request (the point is the very next one).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeSecret } from '../../shared/otp';
import { setServerCodeGroup } from '../../server/store/codes';
import { dropMembership, dropMembershipsBelow, putGroup, putMembership, putPerson } from '../../server/store/membership';
import { createVault, putRecord } from '../../server/store/sync';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, TestClient, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('a right ended is refused at the very next request, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const entry = randomUUID();

  /** A codes-only member of the group, who has just been given a code. */
  async function memberWithCode(): Promise<{ person: Person; vaultUser: string }> {
    const person = await invitePerson(server, owner);
    const vaultUser = randomUUID();
    await server.db.transaction(async (tx) => {
      await putPerson(tx, vault, { vaultUser, accountId: person.user.id, role: 'codes_only', disabled: false });
      await putMembership(tx, vault, { groupId: group, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
    });
    expect((await person.client.ok('codes', { vault, entry })).code).toMatch(/^\d{6}$/);
    return { person, vaultUser };
  }

  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
    await server.db.transaction(async (tx) => {
      await createVault(tx, vault, owner.user.id, server.clock.now());
      await putGroup(tx, vault, { groupId: group, keyVersion: 1, deleted: false });
      await setServerCodeGroup(tx, vault, group, true); // as the group's record says (schema 16)
      await putPerson(tx, vault, { vaultUser: randomUUID(), accountId: owner.user.id, role: 'owner', disabled: false });
      const body = { kind: 'entry', id: entry, revision: 1, base: 0, group, keyVersion: 1, deletedAt: null };
      await putRecord(tx, vault, { id: entry, kind: 'entry', revision: 1, seq: 1, body: JSON.stringify(body) }, owner.user.id);
    });
    const key = serverCodePublicKey((await owner.client.ok('codesKey', undefined)).publicKey);
    const sealed = sealCodeKeyForServer(key, { vault, entry, group, keyVersion: 1 }, {
      kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0,
    });
    await owner.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry, group, keyVersion: 1, sealed }] });
  }, 120_000);

  it('after signing out', async () => {
    const { person } = await memberWithCode();
    await person.client.ok('signOut', {});
    expect(await person.client.fails('codes', { vault, entry })).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('after signing out everywhere from another device', async () => {
    const { person } = await memberWithCode();
    const laptop = new TestClient(server.url);
    await laptop.login(person.username, person.password);
    await laptop.ok('signOutEverywhere', {});
    expect(await person.client.fails('codes', { vault, entry })).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('after an owner removes the device', async () => {
    const { person } = await memberWithCode();
    await owner.client.ok('adminDeviceRemove', { userId: person.user.id, deviceId: person.client.deviceId });
    expect(await person.client.fails('codes', { vault, entry })).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('after an owner resets their second step', async () => {
    const { person } = await memberWithCode();
    expect(await owner.client.ok('adminMfaReset', { userId: person.user.id })).toMatchObject({ endedSessions: 1 });
    expect(await person.client.fails('codes', { vault, entry })).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('after the MFA policy is turned to required for someone without an authenticator', async () => {
    const { person } = await memberWithCode();
    await owner.client.ok('mfaPolicySet', { scope: 'member', level: 'required' });
    try {
      expect(await person.client.fails('codes', { vault, entry })).toMatchObject({ code: 'MFA_REQUIRED', status: 401 });
    } finally {
      await owner.client.ok('mfaPolicySet', { scope: 'member', level: null });
    }
  });

  it('after they are disabled in the vault', async () => {
    const { person, vaultUser } = await memberWithCode();
    await server.db.transaction((tx) => putPerson(tx, vault, { vaultUser, accountId: person.user.id, role: 'codes_only', disabled: true }));
    expect(await person.client.fails('codes', { vault, entry })).toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });

  it('after their membership is revoked', async () => {
    const { person, vaultUser } = await memberWithCode();
    await server.db.transaction((tx) => dropMembership(tx, vault, group, vaultUser));
    expect(await person.client.fails('codes', { vault, entry })).toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });

  // Last: the group stays at its new version.
  it('after the group moves to a key version they are not wrapped at', async () => {
    const { person } = await memberWithCode();
    await server.db.transaction(async (tx) => {
      await putGroup(tx, vault, { groupId: group, keyVersion: 2, deleted: false });
      await dropMembershipsBelow(tx, vault, group, 2);
    });
    expect(await person.client.fails('codes', { vault, entry })).toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });
});
