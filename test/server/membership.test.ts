/**
 * The server enforces membership (#15, schema 14), over real HTTP on PostgreSQL and on PGlite:
 * which account is which vault user is set by an owner (never by a first push); a pull hands an
 * entry of group G only to G's members (and owners and admins, who hold every group); a push
 * into G by a non-member, or sealed under a key version older than G's, stores nothing; grants
 * and revokes only by those who manage G; a revoke (a new key version without the member, or a
 * revoked member record) cuts the member off at the next request; a new member is handed what
 * G held before they joined. The attacks a hostile member would try are here: claiming another
 * vault user, granting themselves, a lead of G granting in H, a forged member record id, an old
 * member record played back, a second rotation to a key version already taken. Records are shaped by the contract only (the desktops check
 * signatures; test/integration/team-membership.test.ts runs real desktops).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SYNC_STREAM_PATH } from '../../shared/api/server-contract';
import type { EntryRecord, ReplicaRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, userRecord, vaultUsers } from './people';
import { invitePerson, type Person, type TestServer } from './support';

const databases = useTestDatabases();

interface World {
  readonly vault: string;
  /** Vault users: the owner, G's lead (team_lead), a technician in G, a technician in H only. */
  readonly users: { readonly owner: string; readonly lead: string; readonly tech: string; readonly other: string };
  readonly g: string;
  readonly h: string;
  /** Entries of G and H the owner stored at the start. */
  readonly inG: EntryRecord;
  readonly inH: EntryRecord;
}

describe.each(DATABASE_KINDS)('membership on the server, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let lead: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { lead, tech, other } } = await serverWithPeople(await databases.open(kind), ['lead', 'tech', 'other']));
  }, 120_000);

  /** A vault as an owner's desktop moves it: its people, groups G and H with their members, an entry in each. */
  async function world(): Promise<World> {
    const vault = randomBytes(16).toString('hex');
    const users = { owner: randomUUID(), lead: randomUUID(), tech: randomUUID(), other: randomUUID() };
    const [g, h] = [randomUUID(), randomUUID()];
    const by = users.owner;
    const inG = entryIn(by, g);
    const inH = entryIn(by, h);
    await owner.client.ok('syncPush', pushOf(vault, [
      ...vaultUsers(by, [[users.owner, 'owner', owner], [users.lead, 'team_lead', lead], [users.tech, 'technician', tech], [users.other, 'technician', other]]),
      groupRecord(by, { id: g, keyVersion: 1 }), groupRecord(by, { id: h, keyVersion: 1 }),
      memberRecord(by, { group: g, user: users.lead, keyVersion: 1, lead: true }), memberRecord(by, { group: g, user: users.tech, keyVersion: 1 }),
      memberRecord(by, { group: h, user: users.other, keyVersion: 1 }),
      inG, inH,
    ]));
    return { vault, users, g, h, inG, inH };
  }

  async function seqOf(vault: string): Promise<number> {
    return (await owner.client.ok('syncPull', { vault, since: 0 })).upTo;
  }

  async function pulledBy(person: Person, vault: string, since = 0): Promise<ReplicaRecord[]> {
    return (await person.client.ok('syncPull', { vault, since })).records.map((r) => r.record);
  }

  it('hand an entry of a group only to its members, owners and admins, and a membership only to those it concerns', async () => {
    const w = await world();
    const ids = async (person: Person): Promise<string[]> => (await pulledBy(person, w.vault)).filter((r) => r.kind === 'entry').map((r) => r.id);
    expect(await ids(owner)).toEqual([w.inG.id, w.inH.id]);
    expect(await ids(tech)).toEqual([w.inG.id]);
    expect(await ids(other)).toEqual([w.inH.id]);
    // The page still reaches the vault's sequence: what was left out is not theirs, and nothing waits.
    const page = await other.client.ok('syncPull', { vault: w.vault, since: 0 });
    expect(page).toMatchObject({ upTo: await seqOf(w.vault), more: false });
    const members = (await pulledBy(other, w.vault)).flatMap((r) => (r.kind === 'member' ? [r.user] : []));
    expect(members).toEqual([w.users.other]);
  });

  it('refuse an entry pushed into a group by someone not in it, or under a key version older than the group\'s, storing nothing', async () => {
    const w = await world();
    const before = await seqOf(w.vault);
    expect(await other.client.fails('syncPush', pushOf(w.vault, [entryIn(w.users.other, w.g)]))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    // Nor moved out of a group they do not hold into one they do, nor into a group the server does not know.
    expect(await other.client.fails('syncPush', pushOf(w.vault, [{ ...entryIn(w.users.other, w.h, { id: w.inG.id, revision: 2, base: 1 }) }]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [entryIn(w.users.tech, randomUUID())]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await seqOf(w.vault)).toBe(before);
    // A member writes in their group at its current version; an older one is refused after a rotation.
    await tech.client.ok('syncPush', pushOf(w.vault, [entryIn(w.users.tech, w.g, { id: w.inG.id, revision: 2, base: 1 })]));
    await lead.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.users.lead, { id: w.g, keyVersion: 2 }), memberRecord(w.users.lead, { group: w.g, user: w.users.lead, keyVersion: 2, lead: true }),
      memberRecord(w.users.lead, { group: w.g, user: w.users.tech, keyVersion: 2 })]));
    const stale = await tech.client.fails('syncPush', pushOf(w.vault, [entryIn(w.users.tech, w.g, { id: w.inG.id, revision: 3, base: 2, keyVersion: 1 })]));
    expect(stale).toMatchObject({ code: 'CONFLICT', status: 409 });
    await tech.client.ok('syncPush', pushOf(w.vault, [entryIn(w.users.tech, w.g, { id: w.inG.id, revision: 3, base: 2, keyVersion: 2 })]));
  });

  it('cut a revoked member off at once: their next pull brings nothing new of the group, their push into it is refused, an old membership played back is refused', async () => {
    const w = await world();
    const techsGrant = memberRecord(w.users.owner, { group: w.g, user: w.users.tech, keyVersion: 1 });
    // The lead revokes the technician: the group at version 2, wrapped again for everyone else, the entry re-sealed.
    await lead.client.ok('syncPush', pushOf(w.vault, [
      groupRecord(w.users.lead, { id: w.g, keyVersion: 2 }), memberRecord(w.users.lead, { group: w.g, user: w.users.lead, keyVersion: 2, lead: true }),
      entryIn(w.users.lead, w.g, { id: w.inG.id, revision: 2, base: 1, keyVersion: 2 }),
    ]));
    const seen = await pulledBy(tech, w.vault);
    expect(seen.filter((r) => r.kind === 'entry' && r.revision === 2)).toEqual([]);
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [entryIn(w.users.tech, w.g, { id: w.inG.id, revision: 3, base: 2, keyVersion: 2 })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [entryIn(w.users.tech, w.g)]))).toMatchObject({ code: 'FORBIDDEN' });
    // Their old grant played back by them: refused (they manage nothing); by anyone who may: older than the group, not taken.
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [{ ...techsGrant, revision: 9 }]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [{ ...techsGrant, revision: 9 }]))).toMatchObject({ accepted: 0 });
    expect((await pulledBy(tech, w.vault)).some((r) => r.kind === 'entry' && r.group === w.g)).toBe(false);
    // A revoked member record cuts off just as well (a lead of H revoking in G is refused first).
    expect(await other.client.fails('syncPush', pushOf(w.vault, [memberRecord(w.users.other, { group: w.g, user: w.users.lead, keyVersion: 2, revoked: true })]))).toMatchObject({ code: 'FORBIDDEN' });
    await owner.client.ok('syncPush', pushOf(w.vault, [memberRecord(w.users.owner, { group: w.g, user: w.users.lead, keyVersion: 2, revoked: true, revision: 10 })]));
    expect(await lead.client.fails('syncPush', pushOf(w.vault, [entryIn(w.users.lead, w.g)]))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuse a second rotation of a group to a key version already taken (two managers revoking at once): CONFLICT, nothing stored; the first stands, re-sent as handed it is taken', async () => {
    const w = await world();
    const anotherKey = (who: string): string => Buffer.from(`another key wrapped for ${who}`).toString('base64url');
    // The owner rotates G to version 2 first (a revoke made on their desktop): the lead wrapped at it.
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.users.owner, { id: w.g, keyVersion: 2 }), memberRecord(w.users.owner, { group: w.g, user: w.users.lead, keyVersion: 2, lead: true })]));
    const before = await seqOf(w.vault);
    // The lead, who had not pulled it, rotated G to version 2 too, under another key.
    const second = [groupRecord(w.users.lead, { id: w.g, keyVersion: 2 }), { ...memberRecord(w.users.lead, { group: w.g, user: w.users.lead, keyVersion: 2, lead: true }), wrappedKey: anotherKey(w.users.lead) },
      { ...memberRecord(w.users.lead, { group: w.g, user: w.users.tech, keyVersion: 2 }), wrappedKey: anotherKey(w.users.tech) }];
    expect(await lead.client.fails('syncPush', pushOf(w.vault, second))).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect(await seqOf(w.vault)).toBe(before);
    const leadsWrap = (await pulledBy(lead, w.vault)).flatMap((r) => (r.kind === 'member' && r.user === w.users.lead ? [r.wrappedKey] : []));
    expect(leadsWrap).toEqual([memberRecord(w.users.owner, { group: w.g, user: w.users.lead, keyVersion: 2 }).wrappedKey]);
    // Once it took the first in, the lead's desktop re-sends what it was handed, byte for byte: no rotation, taken.
    await lead.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.users.lead, { id: w.g, keyVersion: 2 }), memberRecord(w.users.lead, { group: w.g, user: w.users.lead, keyVersion: 2, lead: true })]));
    // ... and rotating again moves to the next version.
    await lead.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.users.lead, { id: w.g, keyVersion: 3 }), { ...memberRecord(w.users.lead, { group: w.g, user: w.users.lead, keyVersion: 3, lead: true }), wrappedKey: anotherKey(w.users.lead) }]));
  });

  it('let only those who manage a group grant in it: nobody grants themselves or makes themselves a lead, a lead of G grants nothing in H', async () => {
    const w = await world();
    const before = await seqOf(w.vault);
    const attempts: Array<[Person, ReplicaRecord]> = [
      [tech, memberRecord(w.users.tech, { group: w.h, user: w.users.tech, keyVersion: 1 })], // a member granting themselves
      [tech, memberRecord(w.users.tech, { group: w.g, user: w.users.tech, keyVersion: 1, lead: true })], // making themselves a lead
      [tech, memberRecord(w.users.tech, { group: w.g, user: w.users.other, keyVersion: 1 })], // a member (no lead) granting another
      [lead, memberRecord(w.users.lead, { group: w.h, user: w.users.tech, keyVersion: 1 })], // a lead of G granting in H
      [lead, memberRecord(w.users.lead, { group: w.h, user: w.users.lead, keyVersion: 1, lead: true })], // a lead of G taking H
      [lead, groupRecord(w.users.lead, { id: w.h, keyVersion: 2 })], // a lead of G rotating H (cutting its members off)
    ];
    for (const [person, record] of attempts) {
      expect(await person.client.fails('syncPush', pushOf(w.vault, [record])), JSON.stringify(record)).toMatchObject({ code: 'FORBIDDEN' });
    }
    // A member record under a name not its own (a second record for one pair) is refused too.
    const forged = { ...memberRecord(w.users.owner, { group: w.g, user: w.users.other, keyVersion: 1 }), id: randomUUID() };
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [forged]))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await seqOf(w.vault)).toBe(before);
    expect((await pulledBy(other, w.vault)).some((r) => r.kind === 'entry' && r.group === w.g)).toBe(false);
    // The lead of G grants in G: the new member is handed what G held before they joined.
    await lead.client.ok('syncPush', pushOf(w.vault, [memberRecord(w.users.lead, { group: w.g, user: w.users.other, keyVersion: 1 })]));
    const after = await other.client.ok('syncPull', { vault: w.vault, since: before });
    expect(after.records.filter((r) => r.record.kind === 'entry').map((r) => r.record.id)).toEqual([w.inG.id]);
    await other.client.ok('syncPush', pushOf(w.vault, [entryIn(w.users.other, w.g)]));
  });

  it('keep a group that holds entries: no lead deletes it, and nobody but an owner or admin introduces one the server holds entries of', async () => {
    const w = await world();
    // G still holds a live entry: its lead's delete is refused, its members keep it.
    expect(await lead.client.fails('syncPush', pushOf(w.vault, [groupRecord(w.users.lead, { id: w.g, keyVersion: 1, revision: 2, deleted: true })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect((await pulledBy(tech, w.vault)).some((r) => r.kind === 'entry' && r.id === w.inG.id)).toBe(true);
    // Emptied in the same push (its entry deleted), it goes.
    await lead.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.users.lead, { id: w.g, keyVersion: 1, revision: 2, deleted: true }), entryIn(w.users.lead, w.g, { id: w.inG.id, revision: 2, base: 1, deleted: true })]));
    // A group whose entries came before its record (owners hold every group): a team lead may not claim it as new.
    const x = randomUUID();
    const inX = entryIn(w.users.owner, x);
    await owner.client.ok('syncPush', pushOf(w.vault, [inX]));
    const squat = [groupRecord(w.users.lead, { id: x, keyVersion: 50 }), memberRecord(w.users.lead, { group: x, user: w.users.lead, keyVersion: 50, lead: true })];
    expect(await lead.client.fails('syncPush', pushOf(w.vault, squat))).toMatchObject({ code: 'FORBIDDEN' });
    expect((await pulledBy(lead, w.vault)).some((r) => r.kind === 'entry' && r.id === inX.id)).toBe(false);
    expect(await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.users.owner, { id: x, keyVersion: 1 })]))).toMatchObject({ accepted: 1 });
    // A group new to the server and to everyone: a team lead makes it, and leads it.
    const y = randomUUID();
    await lead.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.users.lead, { id: y, keyVersion: 1 }), memberRecord(w.users.lead, { group: y, user: w.users.lead, keyVersion: 1, lead: true }), entryIn(w.users.lead, y)]));
  });

  it('make the vault\'s mover no owner by having moved it once an owner is bound elsewhere, and tell a non-member nothing of an entry of theirs', async () => {
    const w = await world();
    const heir = await invitePerson(server, owner, 'admin');
    // The owner's desktop binds the owner's vault user to another account: the mover is no person of the vault now.
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.users.owner, { id: w.users.owner, role: 'owner', account: heir.user.id })]));
    expect(await owner.client.fails('syncPull', { vault: w.vault, since: 0 })).toMatchObject({ code: 'FORBIDDEN' });
    const fresh = randomUUID();
    expect(await owner.client.fails('syncPush', pushOf(w.vault, [userRecord(fresh, { id: fresh, role: 'owner', account: null }), entryIn(fresh, w.h)]))).toMatchObject({ code: 'FORBIDDEN' });
    expect((await pulledBy(heir, w.vault)).filter((r) => r.kind === 'entry')).toHaveLength(2);
    // A record of another kind under an entry id of a group they do not hold: refused, with no revision in the answer.
    const edited = entryIn(w.users.owner, w.g, { id: w.inG.id, revision: 7, base: 1 });
    await heir.client.ok('syncPush', pushOf(w.vault, [{ ...edited, author: w.users.owner, signerKey: w.users.owner }]));
    const customer: ReplicaRecord = {
      kind: 'customer', id: w.inG.id, revision: 1, base: 0, sealedName: 'bmFtZQ', nameIndex: 'aW5kZXg', createdAt: 1, author: w.users.other, signerKey: w.users.other, signature: 'c2ln',
    };
    const probe = await other.client.call('syncPush', pushOf(w.vault, [customer]));
    expect(probe).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(JSON.stringify(probe)).not.toContain('"revision":7');
  });

  it('take the role a moved vault gives its mover: an admin there stays an admin on the server', async () => {
    const vault = randomBytes(16).toString('hex');
    const me = randomUUID();
    const h = randomUUID();
    await owner.client.ok('syncPush', pushOf(vault, [userRecord(me, { id: me, role: 'admin', account: null }), groupRecord(me, { id: h, keyVersion: 1 }), entryIn(me, h)]));
    // Bound now: no longer the first push, so its own role is its own no more to change.
    expect(await owner.client.fails('syncPush', pushOf(vault, [userRecord(me, { id: me, role: 'owner', account: null })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await owner.client.fails('syncPush', pushOf(vault, [userRecord(me, { id: randomUUID(), role: 'admin', account: tech.user.id })]))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('bind accounts to vault users only as an owner says: no first-push squatting, no admin binding or promoting, nobody changing their own role', async () => {
    const w = await world();
    const stranger = await invitePerson(server, owner);
    const before = await seqOf(w.vault);
    // An account of this server that is no person of the vault: refused, whoever it claims to be.
    expect(await stranger.client.fails('syncPush', pushOf(w.vault, [entryIn(w.users.tech, w.g)]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await stranger.client.fails('syncPull', { vault: w.vault, since: 0 })).toMatchObject({ code: 'FORBIDDEN' });
    // Nor hears where the vault stands.
    const stream = await stranger.client.raw('GET', `${SYNC_STREAM_PATH}?vault=${w.vault}`, undefined, stranger.client.authHeaders());
    expect(stream).toMatchObject({ status: 403, body: { ok: false, error: { code: 'FORBIDDEN' } } });
    // Nor by signing as a vault user no account holds yet, known to the server or new to it: only an owner binds.
    const unbound = randomUUID();
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.users.owner, { id: unbound, role: 'technician', account: null })]));
    for (const as of [unbound, randomUUID()]) expect(await stranger.client.fails('syncPush', pushOf(w.vault, [entryIn(as, w.h)]))).toMatchObject({ code: 'FORBIDDEN' });
    // A person of the vault claiming another vault user, setting anyone's role, binding an account, or changing their own role: refused.
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [userRecord(w.users.tech, { id: w.users.other, role: 'codes_only', account: null })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [entryIn(w.users.lead, w.g)]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [userRecord(w.users.tech, { id: randomUUID(), role: 'technician', account: stranger.user.id })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await tech.client.fails('syncPush', pushOf(w.vault, [userRecord(w.users.tech, { id: w.users.tech, role: 'owner', account: null })]))).toMatchObject({ code: 'FORBIDDEN' });
    // An admin sets roles below admin, but binds no account and makes no admin.
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.users.owner, { id: w.users.lead, role: 'admin', account: null })]));
    expect(await lead.client.fails('syncPush', pushOf(w.vault, [userRecord(w.users.lead, { id: w.users.tech, role: 'admin', account: null })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await lead.client.fails('syncPush', pushOf(w.vault, [userRecord(w.users.lead, { id: randomUUID(), role: 'technician', account: stranger.user.id })]))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await lead.client.fails('syncPush', pushOf(w.vault, [userRecord(w.users.lead, { id: w.users.lead, role: 'owner', account: null })]))).toMatchObject({ code: 'FORBIDDEN' });
    await lead.client.ok('syncPush', pushOf(w.vault, [userRecord(w.users.lead, { id: w.users.tech, role: 'codes_only', account: null })]));
    // The owner binds the stranger to a vault user: now they pull (no group yet: no entries).
    const strangerUser = randomUUID();
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.users.owner, { id: strangerUser, role: 'technician', account: stranger.user.id })]));
    expect((await pulledBy(stranger, w.vault)).filter((r) => r.kind === 'entry')).toEqual([]);
    // A disabled vault user's account is refused at once.
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.users.owner, { id: strangerUser, role: 'technician', account: null, disabled: true })]));
    expect(await stranger.client.fails('syncPull', { vault: w.vault, since: 0 })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await seqOf(w.vault)).toBe(before + 5);
  });
});
