/**
 * A key version past what the server's integer columns and casts hold is bad input wherever a
 * record names one (hostile review of 7 December): an entry record took any safe integer, and
 * one stored with 2^31 made every later read that casts it (a code key's seal, a rotation's
 * check of the group's entries) fail with INTERNAL for good. Over real HTTP on PGlite.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntryRecord } from '../../shared/sync/records';
import { useTestDatabases } from './databases';
import { signedBatch } from './signers';
import { registerOwner, startTestServer, type Person, type TestServer } from './support';

const databases = useTestDatabases();
const AUTHOR = randomUUID();
/** Past a PostgreSQL integer (int4), still a safe integer. */
const PAST_INT4 = 2 ** 31;

function entry(keyVersion: number, group = randomUUID()): EntryRecord {
  const b64 = (text: string): string => Buffer.from(text).toString('base64url');
  return {
    kind: 'entry', id: randomUUID(), revision: 1, base: 0, customer: randomUUID(), group, keyVersion, lookup: b64('l'), sealedSummary: b64('s'),
    sealedDetails: b64('d'), createdAt: 1, updatedAt: 1, deletedAt: null, author: AUTHOR, signerKey: AUTHOR, signature: b64('sig'),
  };
}

describe('a key version past the bound', () => {
  let server: TestServer;
  let owner: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open('pglite'));
    owner = await registerOwner(server);
  }, 120_000);
  afterAll(() => server?.close());

  it('is refused in an entry record and a code key, with INVALID_INPUT, and nothing is stored', async () => {
    const vault = randomBytes(16).toString('hex');
    expect(await owner.client.ok('syncPush', { batch: signedBatch(vault, [entry(1)]) })).toMatchObject({ accepted: 1, seq: 1 });
    const far = entry(PAST_INT4);
    expect(await owner.client.fails('syncPush', { batch: signedBatch(vault, [far]) })).toMatchObject({ code: 'INVALID_INPUT' });
    expect((await owner.client.ok('syncPull', { vault, since: 0 })).upTo).toBe(1);
    const seal = await owner.client.fails('codesSeal', { vault, records: [{ kind: 'server_code', entry: far.id, group: far.group, keyVersion: PAST_INT4, sealed: 'AAAA' }] });
    expect(seal).toMatchObject({ code: 'INVALID_INPUT' });
  });
});
