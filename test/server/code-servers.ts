/**
 * Set-up the server-computed codes tests repeat (codes-batch-overlap, review-round-five-holes):
 * two server processes on one database (B with A's keys, as a second process of one deployment),
 * A's owner and a technician they invited, and a vault whose group has server codes on, the
 * technician in it and entries whose TOTP keys the technician sealed for the server. Written
 * straight to the store (the push path is tested elsewhere). For tests only: must never print a
 * key or a code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { encodeSecret } from '../../shared/otp';
import type { Database } from '../../server/store/db';
import { setServerCodeGroup } from '../../server/store/codes';
import { putGroup, putMembership, putPerson } from '../../server/store/membership';
import { createVault, putRecord } from '../../server/store/sync';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

/** Server processes A and B on `db` (B started with A's keys), A's owner and one member they invited. */
export async function twoServerProcesses(db: Database): Promise<{ a: TestServer; b: TestServer; owner: Person; tech: Person }> {
  const a = await startTestServer(db);
  const owner = await registerOwner(a);
  const tech = await invitePerson(a, owner);
  const b = await startTestServer(db, { keys: a.keys });
  return { a, b, owner, tech };
}

/**
 * `vault` made on `server` by `owner`, its group `group` (key version 1) set to server codes,
 * `tech` a technician in it, and `entries` in it (revision 1, seq 1, 2, … in that order); then
 * tech seals a fresh TOTP key of each for the server in one codesSeal.
 */
export async function serverCodeEntries(server: TestServer, owner: Person, tech: Person, vault: string, group: string, entries: readonly string[]): Promise<void> {
  await server.db.transaction(async (tx) => {
    await createVault(tx, vault, owner.user.id, server.clock.now());
    await putGroup(tx, vault, { groupId: group, keyVersion: 1, deleted: false });
    await setServerCodeGroup(tx, vault, group, true);
    const vaultUser = randomUUID();
    await putPerson(tx, vault, { vaultUser, accountId: tech.user.id, role: 'technician', disabled: false });
    await putMembership(tx, vault, { groupId: group, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
    let seq = 0;
    for (const entry of entries) {
      seq += 1;
      const body = { kind: 'entry', id: entry, revision: 1, base: 0, group, keyVersion: 1, deletedAt: null };
      await putRecord(tx, vault, { id: entry, kind: 'entry', revision: 1, seq, body: JSON.stringify(body) }, owner.user.id);
    }
  });
  const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
  const records = entries.map((entry) => ({
    kind: 'server_code' as const, entry, group, keyVersion: 1,
    sealed: sealCodeKeyForServer(key, { vault, entry, group, keyVersion: 1 }, { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }),
  }));
  await tech.client.ok('codesSeal', { vault, records });
}
