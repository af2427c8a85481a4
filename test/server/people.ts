/**
 * Records that say who is who in a team vault (schema 14), shaped by the contract, for the server
 * tests; pushOf signs them with their authors' test keys (signers.ts: the server checks signatures
 * since schema 17), and the tests check who pushes them and what that person may do. Must never stand in for a desktop's own records
 * where a test needs real signatures (test/integration does that with real vault files).
 * Also the set-up those tests repeat: a server with its owner and the people they invited, and a
 * vault of two groups G and H as an owner's desktop first pushes it. For tests only.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Permission } from '../../shared/policy';
import { memberRecordId, vaultObjectId, type EntryRecord, type EventRecord, type GroupRecord, type MemberRecord, type ReplicaBatch, type ReplicaRecord, type RoleRecord, type UserRecord } from '../../shared/sync/records';
import { int, type Database } from '../../server/store/db';
import { signedBatch } from './signers';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** A push of `records`, signed by their authors' test keys (signers.ts: the server checks signatures). */
export function pushOf(vault: string, records: ReplicaRecord[]): { batch: ReplicaBatch } {
  return { batch: signedBatch(vault, records) };
}

/** A custom role's first record, `name` with `permissions`. */
export function roleRecord(vault: string, author: string, name: string, permissions: readonly Permission[]): RoleRecord {
  return { kind: 'role', id: vaultObjectId(vault, 'role', sha256Hex, name), revision: 1, base: 0, name, permissions: [...permissions], author, signerKey: author, signature: b64('signature') };
}

export function userRecord(author: string, user: { readonly id: string; readonly role: string; readonly account: string | null; readonly revision?: number; readonly disabled?: boolean }): UserRecord {
  return {
    kind: 'user', id: user.id, revision: user.revision ?? 1, name: `user ${user.id.slice(0, 8)}`, role: user.role, publicKey: b64('public key'), account: user.account,
    disabledAt: user.disabled === true ? 1 : null, author, signerKey: author, signature: b64('signature'),
  };
}

export function groupRecord(author: string, group: { readonly id: string; readonly keyVersion: number; readonly revision?: number; readonly deleted?: boolean; readonly serverCodes?: boolean }): GroupRecord {
  return {
    kind: 'group', id: group.id, revision: group.revision ?? group.keyVersion, sealedName: b64('sealed name'), nameIndex: b64(`index ${group.id}`), keyVersion: group.keyVersion,
    createdAt: 1, deletedAt: group.deleted === true ? 2 : null, ...(group.serverCodes === undefined ? {} : { serverCodes: group.serverCodes }), author, signerKey: author, signature: b64('signature'),
  };
}

export function memberRecord(author: string, member: { readonly group: string; readonly user: string; readonly keyVersion: number; readonly lead?: boolean; readonly revoked?: boolean; readonly revision?: number }): MemberRecord {
  const revoked = member.revoked === true;
  return {
    kind: 'member', id: memberRecordId(member.group, member.user, sha256Hex), revision: member.revision ?? member.keyVersion, group: member.group, user: member.user,
    keyVersion: member.keyVersion, lead: !revoked && member.lead === true, byRole: false, wrappedKey: revoked ? '' : b64(`wrapped for ${member.user}`), wrappedSecretKey: null, revoked,
    author, signerKey: author, signature: b64('signature'),
  };
}

export function entryIn(author: string, group: string, fields: { readonly id?: string; readonly revision?: number; readonly base?: number; readonly keyVersion?: number; readonly deleted?: boolean } = {}): EntryRecord {
  const deleted = fields.deleted === true;
  const revision = fields.revision ?? 1;
  return {
    kind: 'entry', id: fields.id ?? randomUUID(), revision, base: fields.base ?? revision - 1, customer: randomUUID(), group, keyVersion: fields.keyVersion ?? 1,
    lookup: deleted ? '' : b64('lookup'), sealedSummary: deleted ? '' : b64(`summary ${revision}`), sealedDetails: deleted ? '' : b64(`details ${revision}`),
    createdAt: 1, updatedAt: revision, deletedAt: deleted ? revision : null, author, signerKey: author, signature: b64('signature'),
  };
}

/** The user records `by` (an owner's vault user) signs binding each vault user [id, role, account's person] to their account, in order. */
export function vaultUsers(by: string, users: ReadonlyArray<readonly [id: string, role: string, person: Person]>): UserRecord[] {
  return users.map(([id, role, person]) => userRecord(by, { id, role, account: person.user.id }));
}

/** An owner (acting as vault user `ownerUser`) binds `person`'s account to a new vault user of `role`: returns that vault user's id. */
export async function bindToVault(owner: Person, ownerUser: string, vault: string, person: Person, role: string): Promise<string> {
  const id = randomUUID();
  await owner.client.ok('syncPush', pushOf(vault, [userRecord(ownerUser, { id, role, account: person.user.id })]));
  return id;
}

/** A server on `db`, its owner, and a member account per name, invited one after another in that order. */
export async function serverWithPeople<const Name extends string>(db: Database, names: readonly Name[]): Promise<{ server: TestServer; owner: Person; people: Record<Name, Person> }> {
  const server = await startTestServer(db);
  const owner = await registerOwner(server);
  const people: Partial<Record<Name, Person>> = {};
  for (const name of names) people[name] = await invitePerson(server, owner);
  return { server, owner, people: people as Record<Name, Person> };
}

/** A new vault's ids: its vault users (the owner, a technician in G, a technician in H only) and its groups G and H. */
export interface TwoGroupVault {
  readonly vault: string;
  readonly u: { readonly owner: string; readonly tech: string; readonly other: string };
  readonly g: string;
  readonly h: string;
}

export function twoGroupVault(): TwoGroupVault {
  return { vault: randomBytes(16).toString('hex'), u: { owner: randomUUID(), tech: randomUUID(), other: randomUUID() }, g: randomUUID(), h: randomUUID() };
}

/**
 * What the owner's desktop pushes first to a TwoGroupVault: the three vault users bound to their
 * accounts, G (set to server codes if asked) and H, tech's membership of G (techInG if given) and
 * other's of H; records in that order.
 */
export function twoGroupRecords(w: TwoGroupVault, accounts: { readonly owner: Person; readonly tech: Person; readonly other: Person }, options: { readonly serverCodes?: boolean; readonly techInG?: MemberRecord } = {}): ReplicaRecord[] {
  const by = w.u.owner;
  return [
    ...vaultUsers(by, [[w.u.owner, 'owner', accounts.owner], [w.u.tech, 'technician', accounts.tech], [w.u.other, 'technician', accounts.other]]),
    groupRecord(by, { id: w.g, keyVersion: 1, ...(options.serverCodes === undefined ? {} : { serverCodes: options.serverCodes }) }), groupRecord(by, { id: w.h, keyVersion: 1 }),
    options.techInG ?? memberRecord(by, { group: w.g, user: w.u.tech, keyVersion: 1 }), memberRecord(by, { group: w.h, user: w.u.other, keyVersion: 1 }),
  ];
}

/** The owner's move of a TwoGroupVault (twoGroupRecords), then tech's entry in G and other's in H (each so pushing their own key). */
export async function twoGroupVaultPushed(accounts: { readonly owner: Person; readonly tech: Person; readonly other: Person }): Promise<TwoGroupVault> {
  const w = twoGroupVault();
  await accounts.owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, accounts)));
  await accounts.tech.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.tech, w.g)]));
  await accounts.other.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.other, w.h)]));
  return w;
}

/** A TwoGroupVault pushed (twoGroupVaultPushed), then G set to "server computes codes" by the owner's record (revision 2). */
export async function twoGroupVaultCodesOn(accounts: { readonly owner: Person; readonly tech: Person; readonly other: Person }): Promise<TwoGroupVault> {
  const w = await twoGroupVaultPushed(accounts);
  await accounts.owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: w.g, keyVersion: 1, revision: 2, serverCodes: true })]));
  return w;
}

/** An entry.edit event by `actor` on `device` following `devicePrev`, in the tests' shorthand (signerKey the actor's id: signedBatch signs it). */
export function eventBy(actor: string, device: string, devicePrev: string | null): EventRecord {
  return {
    kind: 'event', id: randomUUID(), at: 1, actor, action: 'entry.edit', subject: null, entry: null, customer: null, group: null,
    sealedDetail: b64('sealed detail'), device, devicePrev, signerKey: actor, signature: null,
  };
}

/** The server's sequence number of `vault` (0 before its first push). */
export async function seqOf(server: TestServer, vault: string): Promise<number> {
  const [row] = await server.db.query('SELECT seq FROM sync_vaults WHERE vault_id = $1', [vault]);
  return row === undefined ? 0 : int(row, 'seq');
}
