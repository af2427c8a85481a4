/**
 * The server refuses entry writes a built-in role may not make (review round ten, hole 3), over
 * real HTTP on PostgreSQL and on PGlite: a codes-only member or an auditor of a group creates,
 * deletes, moves or edits none of its entries, not even one that keeps its group, customer and
 * lookup (the shape of an HOTP counter step, which their desktops do not send: the server cannot
 * tell it from another change inside the seal); a technician does all of it. Each refusal FORBIDDEN with nothing stored. Records are shaped by
 * the contract only (desktops check signatures; test/integration/codes-only-member-edit.test.ts
 * runs real desktops). Must never pass with the role check off: each refused push would be stored.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntryRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, vaultUsers } from './people';
import type { Person } from './support';

const databases = useTestDatabases();

describe.each(DATABASE_KINDS)('entry writes by role on the server, on %s', (kind) => {
  let owner: Person;
  let codes: Person;
  let auditor: Person;
  let tech: Person;
  beforeAll(async () => {
    ({ owner, people: { codes, auditor, tech } } = await serverWithPeople(await databases.open(kind), ['codes', 'auditor', 'tech']));
  }, 120_000);

  /** A vault: the owner, a codes-only member, an auditor and a technician, all in G and H; one entry in G. */
  async function world(): Promise<{ vault: string; users: Record<'owner' | 'codes' | 'auditor' | 'tech', string>; g: string; h: string; inG: EntryRecord }> {
    const vault = randomBytes(16).toString('hex');
    const users = { owner: randomUUID(), codes: randomUUID(), auditor: randomUUID(), tech: randomUUID() };
    const [g, h] = [randomUUID(), randomUUID()];
    const by = users.owner;
    const inG = entryIn(by, g);
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(by, [[users.owner, 'owner', owner], [users.codes, 'codes_only', codes], [users.auditor, 'auditor', auditor], [users.tech, 'technician', tech]]),
      groupRecord(by, { id: g, keyVersion: 1 }), groupRecord(by, { id: h, keyVersion: 1 }),
      ...[users.codes, users.auditor, users.tech].flatMap((user) => [memberRecord(by, { group: g, user, keyVersion: 1 }), memberRecord(by, { group: h, user, keyVersion: 1 })]),
      inG,
    ]));
    return { vault, users, g, h, inG };
  }

  it('refuse a codes-only member\'s or an auditor\'s create, edit, move and delete, even one shaped as an HOTP counter step', async () => {
    const w = await world();
    const seq = async (): Promise<number> => (await owner.client.ok('syncPull', { vault: w.vault, since: 0 })).upTo;
    const before = await seq();
    const by = w.users.codes;
    // The same entry, its group, customer and lookup kept: an HOTP counter step's shape (all it changes is sealed).
    const step = { ...entryIn(by, w.g, { id: w.inG.id, revision: 2, base: 1 }), customer: w.inG.customer };
    const refused = [
      entryIn(by, w.g),
      { ...step, lookup: Buffer.from('another title').toString('base64url') },
      { ...step, customer: randomUUID() },
      { ...entryIn(by, w.h, { id: w.inG.id, revision: 2, base: 1 }), customer: w.inG.customer },
      { ...entryIn(by, w.g, { id: w.inG.id, revision: 2, base: 1, deleted: true }), customer: w.inG.customer },
    ];
    for (const record of refused) expect(await codes.client.fails('syncPush', pushOf(w.vault, [record]))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(await codes.client.fails('syncPush', pushOf(w.vault, [step]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await auditor.client.fails('syncPush', pushOf(w.vault, [{ ...step, author: w.users.auditor, signerKey: w.users.auditor }]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await seq()).toBe(before);
  });

  it('take a technician\'s edit of the title, move and delete', async () => {
    const w = await world();
    const by = w.users.tech;
    await tech.client.ok('syncPush', pushOf(w.vault, [{ ...entryIn(by, w.g, { id: w.inG.id, revision: 2, base: 1 }), lookup: Buffer.from('another title').toString('base64url') }]));
    await tech.client.ok('syncPush', pushOf(w.vault, [entryIn(by, w.h, { id: w.inG.id, revision: 3, base: 2 })]));
    expect(await tech.client.ok('syncPush', pushOf(w.vault, [entryIn(by, w.h, { id: w.inG.id, revision: 4, base: 3, deleted: true })]))).toMatchObject({ accepted: 1 });
  });
});
