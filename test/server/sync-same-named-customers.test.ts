/**
 * Same-named customers on the server (docs/SYNC.md "Same-named customers"), over real HTTP on
 * PostgreSQL and on PGlite: a push adding a customer whose name index another customer of the
 * vault holds already is refused as a conflict naming that customer (the desktop pulls it and
 * folds its own into it), nothing of the push stored; two new customers of one index in one
 * push are INVALID_INPUT; two desktops adding the same name at the same moment: exactly one is
 * stored. Records are signed with test keys (signers.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CustomerRecord, EntryRecord, ReplicaBatch, ReplicaRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { userRecord } from './people';
import { signedBatch } from './signers';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

const databases = useTestDatabases();

const b64 = (text: string): string => Buffer.from(text).toString('base64url');

const OWNER_USER = randomUUID();
const MEMBER_USER = randomUUID();

function customer(name: string, author = OWNER_USER, id = randomUUID()): CustomerRecord {
  return { kind: 'customer', id, revision: 1, base: 0, sealedName: b64(`sealed ${name} ${randomUUID()}`), nameIndex: b64(`index ${name}`), createdAt: 1, author, signerKey: author, signature: '' };
}

function entryOf(customerId: string, author = OWNER_USER): EntryRecord {
  const group = randomUUID();
  return {
    kind: 'entry', id: randomUUID(), revision: 1, base: 0, customer: customerId, group, keyVersion: 1, lookup: b64('lookup'), sealedSummary: b64('summary'),
    sealedDetails: b64('details'), createdAt: 1, updatedAt: 1, deletedAt: null, author, signerKey: author, signature: '',
  };
}

function batch(vault: string, records: ReplicaRecord[]): { batch: ReplicaBatch } {
  return { batch: signedBatch(vault, records) };
}

describe.each(DATABASE_KINDS)('same-named customers on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let member: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open(kind));
    owner = await registerOwner(server);
    member = await invitePerson(server, owner);
  }, 120_000);

  /** A vault the owner moved here, the member's account bound to a vault admin: seq 1. */
  async function startVault(): Promise<string> {
    const vault = randomBytes(16).toString('hex');
    await owner.client.ok('syncPush', batch(vault, [userRecord(OWNER_USER, { id: MEMBER_USER, role: 'admin', account: member.user.id })]));
    return vault;
  }

  it('refuse a second customer of a name as a conflict naming the first, storing nothing of the push', async () => {
    const vault = await startVault();
    const first = customer('Contoso');
    expect(await owner.client.ok('syncPush', batch(vault, [first, entryOf(first.id)]))).toMatchObject({ accepted: 2, seq: 3, conflicts: [] });
    const second = customer('Contoso', MEMBER_USER);
    const refused = await member.client.ok('syncPush', batch(vault, [second, entryOf(second.id, MEMBER_USER), customer('Fabrikam', MEMBER_USER)]));
    expect(refused).toEqual({ accepted: 0, seq: 3, conflicts: [{ id: first.id, revision: 1 }] });
    const pulled = await member.client.ok('syncPull', { vault, since: 0 });
    expect(pulled.records.map((r) => r.record.id)).not.toContain(second.id);
    expect(pulled.upTo).toBe(3);
    // Another name goes, and the first customer's own next revision is no new customer.
    expect(await member.client.ok('syncPush', batch(vault, [customer('Fabrikam', MEMBER_USER)]))).toMatchObject({ accepted: 1, conflicts: [] });
    expect(await owner.client.ok('syncPush', batch(vault, [{ ...first, revision: 2, base: 1, sealedName: b64('sealed again') }]))).toMatchObject({ accepted: 1, conflicts: [] });
  });

  it('refuse two new customers of one name in one push as bad input, storing nothing', async () => {
    const vault = await startVault();
    const failed = await owner.client.fails('syncPush', batch(vault, [customer('Contoso'), customer('Contoso'), customer('Fabrikam')]));
    expect(failed).toMatchObject({ code: 'INVALID_INPUT', message: 'A push adds two customers of the same name.' });
    expect(await owner.client.ok('syncPull', { vault, since: 1 })).toEqual({ records: [], upTo: 1, more: false });
  });

  it('store exactly one of two same-named customers pushed at the same moment, many times over', async () => {
    const vault = await startVault();
    for (let round = 0; round < 5; round++) {
      const pairs = [[owner, OWNER_USER], [member, MEMBER_USER]] as const;
      const replies = await Promise.all(pairs.map(([person, as]) => person.client.ok('syncPush', batch(vault, [customer(`Name ${round}`, as)]))));
      expect(replies.filter((r) => r.accepted === 1)).toHaveLength(1);
      expect(replies.filter((r) => r.conflicts.length === 1)).toHaveLength(1);
    }
    const pulled = await owner.client.ok('syncPull', { vault, since: 1 });
    expect(pulled.records).toHaveLength(5);
  });
});
