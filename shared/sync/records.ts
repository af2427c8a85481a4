/**
 * [Note: replica records] What one replica of a vault hands another (and, with team sync, the
 * server stores and relays): shared objects as records named by global id, their sealed parts
 * as base64url, with the revision they are at and the `base` revision their writer had last
 * agreed with the others (0: an object new to them); an entry or customer record is signed by
 * the person who sent it, and an event by its author. Nothing here is plaintext that the vault
 * file does not already hold in plain (ids, revisions, times, actions, user names of events);
 * every name, title, secret and detail stays sealed under keys the server never holds.
 *
 * Customers, entries (tombstones too), signing keys and audit events — what people do every
 * day — and, with the team server (#15), the vault's people (`user`: public key, role, the
 * server account acting as them), access groups (`group`: sealed name, current key version)
 * and memberships (`member`: the group key wrapped for one member at one version, or revoked),
 * each signed by whoever set it; the server decides by them who may pull and push what
 * (docs/SYNC.md). Parsed with these schemas before a byte is applied: the other side is another
 * machine.
 */
import { z } from 'zod';
import { MFA_POLICY_LEVELS, SETTING_LIMITS } from '../model';
import { builtInRoleNamed, foldRoleName, PERMISSIONS } from '../policy';
import { MAX_BATCH_DIGESTS, recordBatchSchema } from './record-batches';

export const REPLICA_FORMAT = 1;
/** Format 2: customer and entry records may name a signed batch of digests instead of carrying a signature (record-batches.ts). */
export const REPLICA_FORMAT_BATCHED = 2;

/** A global id as text: 8-4-4-4-12 lower-case hex (electron/vault/ids.ts uidText). */
const uid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'not a global id');
/** Sealed or binary bytes, base64url without padding; a sealed entry half (notes 20,000 characters at most) stays well under this. */
const bytes = z.string().max(131_072).regex(/^[A-Za-z0-9_-]*$/, 'not base64url');
/** Who sent a record and vouches for it: their user, their signing key, their Ed25519 signature over recordSigningText. */
const signed = { author: uid, signerKey: uid, signature: bytes };
/**
 * A customer or entry record is vouched for by its own signature (format 1) or by its place in a
 * batch its sender signed (format 2: `batch` and `index`, record-batches.ts), never both.
 */
const vouched = {
  author: uid, signerKey: uid, signature: bytes.optional(), batch: uid.optional(), index: z.number().int().nonnegative().max(MAX_BATCH_DIGESTS - 1).optional(),
};
const oneVoucher = (r: { signature?: string | undefined; batch?: string | undefined; index?: number | undefined }): boolean =>
  (r.signature !== undefined ? r.batch === undefined && r.index === undefined : r.batch !== undefined && r.index !== undefined);
const ONE_VOUCHER = 'a record carries its signature or names its batch and index, one of the two';
/**
 * Whether PostgreSQL can store `text` (in jsonb and text columns): no U+0000 and no lone UTF-16
 * surrogate, which it refuses with an error (a 500) where the contract should refuse the input.
 */
export function storableText(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i += 1;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}
/** A free string of the sync contract (every one goes through this): at most `max` UTF-16 units, storable. */
const freeText = (max: number): z.ZodString => z.string().max(max).refine(storableText, 'holds U+0000 or a lone surrogate, which cannot be stored');
const millis = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const revision = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const base = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** The highest key version of a group, its members and entries: the server keeps and casts them as a PostgreSQL integer (int4). */
export const MAX_KEY_VERSION = 1_000_000_000;
/** A group key version, wherever a record names one (an entry's was unbounded: stored past int4, it failed every read casting it). */
export const keyVersionSchema = z.number().int().positive().max(MAX_KEY_VERSION);
/**
 * A role as a record names it, in its one canonical form (review round twelve (a), holes 1 and 4):
 * what a desktop's `role define` takes (a letter, then letters, digits, spaces, "_" or "-"; no space
 * at its end: the desktop trims it), and a built-in role only as its id ("owner", "team_lead"),
 * never as a spelling that folds to it ("Owner", "ADMIN", "owner ", "Team lead"). A desktop
 * resolves a typed name by folding it (store-roles.ts resolveRoleName), the server reads it as
 * written: a record carrying a variant would be one role to the check and another to the store.
 * A custom role's name is checked against its stored spelling where that is known (the server's
 * role record, the desktop's roles table): server/sync/membership.ts, replica-people-in.ts.
 */
const roleName = z.string().max(64).regex(/^[A-Za-z][A-Za-z0-9 _-]{0,63}$/, 'not a role name').refine((n) => !n.endsWith(' '), 'a role name ending in a space')
  .refine((n) => { const builtIn = builtInRoleNamed(n); return builtIn === undefined || builtIn === n; }, 'a built-in role not written as its id');

export const customerRecordSchema = z.strictObject({
  kind: z.literal('customer'),
  id: uid,
  revision,
  base,
  sealedName: bytes,
  nameIndex: bytes,
  createdAt: millis,
  ...vouched,
}).refine(oneVoucher, ONE_VOUCHER);

export const entryRecordSchema = z.strictObject({
  kind: z.literal('entry'),
  id: uid,
  revision,
  base,
  customer: uid,
  group: uid,
  keyVersion: keyVersionSchema,
  lookup: bytes,
  sealedSummary: bytes,
  sealedDetails: bytes,
  createdAt: millis,
  updatedAt: millis,
  /** A tombstone: deleted then, nothing sealed kept. */
  deletedAt: millis.nullable(),
  ...vouched,
}).refine((r) => r.deletedAt === null || (r.lookup === '' && r.sealedSummary === '' && r.sealedDetails === ''), 'a tombstone keeps nothing sealed').refine(oneVoucher, ONE_VOUCHER);

/** Signing keys never change once made (schema 11): a record is the key, once. */
export const signingKeyRecordSchema = z.strictObject({
  kind: z.literal('signing_key'),
  id: uid,
  user: uid,
  publicKey: bytes,
  createdAt: millis,
  certifiedBy: uid.nullable(),
  certificate: bytes.nullable(),
  binding: bytes.nullable(),
});

/** An audit event as its author signed it (store-audit.ts eventBytes); each replica chains it into its own log. */
export const eventRecordSchema = z.strictObject({
  kind: z.literal('event'),
  id: uid,
  at: millis,
  actor: uid.nullable(),
  action: z.string().min(1).max(64).regex(/^[a-z_.]+$/, 'not an action'),
  subject: freeText(256).nullable(),
  entry: uid.nullable(),
  customer: uid.nullable(),
  group: uid.nullable(),
  sealedDetail: bytes.nullable(),
  device: bytes.nullable(),
  devicePrev: bytes.nullable(),
  signerKey: uid.nullable(),
  signature: bytes.nullable(),
  /**
   * Signature v3 (docs/SYNC.md "Events of groups one does not hold", shared/sync/event-v3.ts): the
   * scope tag (hex) the header names; `bodySalt` (hex) with the body fields present (the whole form,
   * the only one a push takes), or `bodyDigest` (hex) with them null (the redacted form a server
   * hands a member who does not hold the event's group). Absent: a v2 or v1 event.
   */
  scope: z.string().regex(/^[0-9a-f]{64}$/, 'not a scope tag').optional(),
  bodySalt: z.string().regex(/^[0-9a-f]{32}$/, 'not a body salt').optional(),
  bodyDigest: z.string().regex(/^[0-9a-f]{64}$/, 'not a body digest').optional(),
});

/**
 * A vault user: their name (plain in the vault file already, as events name them), role
 * (plain: the server authorizes by it), public key (what group keys are wrapped to), and
 * `account`: the server account that acts as them, set by an owner (null: left as the server
 * holds it). Signed by the owner or admin who set it.
 */
export const userRecordSchema = z.strictObject({
  kind: z.literal('user'),
  id: uid,
  revision,
  name: freeText(64).min(1),
  role: roleName,
  publicKey: bytes,
  account: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not an account id').nullable(),
  disabledAt: millis.nullable(),
  /**
   * For a person bound to a server account who signs in on their own desktop (#15, team join):
   * the vault's directory key (its version as 4 bytes big-endian, then the key wrapped to
   * `publicKey`) and their signing key's seed wrapped to `publicKey`, both opaque to the server.
   * Absent in records from before them, and for people whose key pair this vault file seals.
   */
  wrappedDirectoryKey: bytes.optional(),
  wrappedSigningKey: bytes.optional(),
  ...signed,
});

/**
 * An access group: its name sealed under the directory key with its keyed index, its current key
 * version, or deleted; and `serverCodes`, whether the team server computes its codes (plain: the
 * server enforces it — seals taken only for such groups, no secret key wrapped for codes-only
 * members there; set only by owners and admins). Absent in records from desktops before it
 * (left as the server holds it).
 */
export const groupRecordSchema = z.strictObject({
  kind: z.literal('group'),
  id: uid,
  revision,
  sealedName: bytes,
  nameIndex: bytes,
  keyVersion: keyVersionSchema,
  createdAt: millis,
  deletedAt: millis.nullable(),
  serverCodes: z.boolean().optional(),
  /**
   * The scope keys of the group's earlier key versions (audit events tagged before a rotation), sealed
   * under its list key at `keyVersion` by the desktop that rotated it (electron/vault/scope-key-history.ts):
   * a holder granted after a rotation matches those tags too. Opaque to the server. Its signer's word
   * only: a desktop matches each key as this group's alone (a tag names its group), never another's.
   */
  sealedScopeKeys: bytes.optional(),
  ...signed,
});

/**
 * One member of one group at one key version: the group's key (and, for roles that need
 * secrets, its secret key) wrapped to the member's public key — opaque to the server — and
 * whether they lead it; `revoked`: the membership ended (nothing wrapped). Named by
 * memberRecordId(group, user), so one pair has one record. Signed by the granter.
 */
export const memberRecordSchema = z.strictObject({
  kind: z.literal('member'),
  id: uid,
  revision,
  group: uid,
  user: uid,
  keyVersion: keyVersionSchema,
  lead: z.boolean(),
  byRole: z.boolean(),
  wrappedKey: bytes,
  wrappedSecretKey: bytes.nullable(),
  revoked: z.boolean(),
  ...signed,
}).refine((r) => !r.revoked || (r.wrappedKey === '' && r.wrappedSecretKey === null && !r.lead), 'a revoked membership keeps nothing wrapped');

/**
 * A custom role (#15, task 15): its name and the permissions it grants, plain — the server judges
 * its holders' writes by them (shared/policy-writes.ts), as every desktop does. Named by
 * vaultObjectId(vault, 'role', name) folded, so one name has one record whoever defines it.
 * Written by owners and admins only; `base` the revision its writer last agreed (0: a new role).
 */
export const roleRecordSchema = z.strictObject({
  kind: z.literal('role'),
  id: uid,
  revision,
  base,
  name: roleName.refine((n) => builtInRoleNamed(n) === undefined, 'a custom role under a built-in role\'s name'),
  permissions: z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length).refine((p) => new Set(p).size === p.length, 'a permission named twice'),
  ...signed,
});

const setting = (max: number): z.ZodNumber => z.number().int().nonnegative().max(max);
/** The vault-wide settings (idle lock, clipboard clearing, trusted-computer days): one object a vault, named by vaultObjectId(vault, 'settings'). Owners and admins only. */
export const settingsRecordSchema = z.strictObject({
  kind: z.literal('settings'),
  id: uid,
  revision,
  base,
  idleLockMinutes: setting(SETTING_LIMITS.idleLockMinutes),
  clipboardClearSeconds: setting(SETTING_LIMITS.clipboardClearSeconds),
  trustDeviceDays: setting(SETTING_LIMITS.trustDeviceDays),
  ...signed,
});

const mfaLevel = z.enum(MFA_POLICY_LEVELS);
/**
 * The vault's two-step sign-in policy: a level for everyone and per role; one object a vault, named
 * by vaultObjectId(vault, 'mfa_policy'). Owners and admins only. Its role list is a map: one role
 * named twice, in any spelling a desktop folds together, is refused (the server read the first of
 * two, a desktop's Object.fromEntries the last: review round twelve (a), hole 4).
 */
export const mfaPolicyRecordSchema = z.strictObject({
  kind: z.literal('mfa_policy'),
  id: uid,
  revision,
  base,
  global: mfaLevel,
  roles: z.array(z.tuple([roleName, mfaLevel])).max(256).refine((list) => new Set(list.map(([role]) => foldRoleName(role))).size === list.length, 'a role named twice'),
  ...signed,
});

/** Record kinds newer than record format 1's first desktops: a pull hands them only to a desktop that names them (old desktops' strict schema would refuse the page). */
export const VAULT_OBJECT_KINDS = ['role', 'settings', 'mfa_policy'] as const;
export type VaultObjectKind = (typeof VAULT_OBJECT_KINDS)[number];

/**
 * One of the record schemas, chosen by `kind` (every one has its own literal kind): the same records
 * taken and refused as a plain union of them, but a union ran each schema in turn until one held, so
 * an entry was parsed twice (as a customer first) and an event four times, each failure building its
 * issues. At a first sync of 100,000 entries that was most of the desktop's parse (docs/SYNC.md
 * "Speed" step 10; test/unit/record-schema-kind.test.ts holds the two to the same verdicts).
 */
export const replicaRecordSchema = z.discriminatedUnion('kind', [
  customerRecordSchema, entryRecordSchema, signingKeyRecordSchema, eventRecordSchema, userRecordSchema, groupRecordSchema, memberRecordSchema,
  roleRecordSchema, settingsRecordSchema, mfaPolicyRecordSchema,
]);

export type CustomerRecord = z.infer<typeof customerRecordSchema>;
export type EntryRecord = z.infer<typeof entryRecordSchema>;
export type SigningKeyRecord = z.infer<typeof signingKeyRecordSchema>;
export type EventRecord = z.infer<typeof eventRecordSchema>;
export type UserRecord = z.infer<typeof userRecordSchema>;
export type GroupRecord = z.infer<typeof groupRecordSchema>;
export type MemberRecord = z.infer<typeof memberRecordSchema>;
export type RoleRecord = z.infer<typeof roleRecordSchema>;
export type SettingsRecord = z.infer<typeof settingsRecordSchema>;
export type MfaPolicyRecord = z.infer<typeof mfaPolicyRecordSchema>;
/** The vault-wide objects only owners and admins write (task 15): custom roles, settings, the MFA policy. */
export type VaultObjectRecord = RoleRecord | SettingsRecord | MfaPolicyRecord;
export type ReplicaRecord = z.infer<typeof replicaRecordSchema>;
/** The records that say who is who, which the server keeps an index of (server/store/membership.ts). */
export type PeopleRecord = UserRecord | GroupRecord | MemberRecord;

// Apart so a rotation's revoked record names it without the schemas (record-ids.ts).
export { memberRecordId } from './record-ids';

/**
 * The one id of a vault-wide object: the settings, the MFA policy (no `name`), or the custom role
 * `name` (folded: case, spaces, "_" and "-" aside, as store-roles.ts foldRoleName), so two desktops
 * defining one role name meet on one record and its base (CONFLICT), not two roles of one name.
 */
export function vaultObjectId(vault: string, kind: VaultObjectKind, sha256Hex: (text: string) => string, name = ''): string {
  const folded = foldRoleName(name);
  const hex = sha256Hex(`crewvault/v1 ${kind}\n${vault}\n${folded}`);
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('vaultObjectId: not a SHA-256 in hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * What the sender of an entry or customer record signs: every field but the signature, in a
 * fixed order, with the vault's id, so a relay can neither change a revision, a base, a group
 * or a tombstone, nor pass one sender's record off as another's or one vault's as another's.
 */
/** A signed record before it is signed (each kind apart: Omit over a union would merge them). */
export type Unsigned<T> = T extends unknown ? Omit<T, 'signature' | 'batch' | 'index'> : never;

export function recordSigningText(vault: string, record: Unsigned<CustomerRecord | EntryRecord | PeopleRecord | VaultObjectRecord>): string {
  if (record.kind === 'role') {
    return JSON.stringify(['crewvault/v1 replica record', vault, record.kind, record.id, record.revision, record.base, record.name, record.permissions, record.author, record.signerKey]);
  }
  if (record.kind === 'settings') {
    return JSON.stringify([
      'crewvault/v1 replica record', vault, record.kind, record.id, record.revision, record.base, record.idleLockMinutes, record.clipboardClearSeconds, record.trustDeviceDays, record.author, record.signerKey,
    ]);
  }
  if (record.kind === 'mfa_policy') {
    return JSON.stringify(['crewvault/v1 replica record', vault, record.kind, record.id, record.revision, record.base, record.global, record.roles, record.author, record.signerKey]);
  }
  if (record.kind === 'user') {
    // The wraps are signed when the record carries them (a record without them is signed as before).
    return JSON.stringify([
      'crewvault/v1 replica record', vault, record.kind, record.id, record.revision, record.name, record.role, record.publicKey, record.account, record.disabledAt, record.author, record.signerKey,
      ...(record.wrappedDirectoryKey === undefined && record.wrappedSigningKey === undefined ? [] : [record.wrappedDirectoryKey ?? null, record.wrappedSigningKey ?? null]),
    ]);
  }
  if (record.kind === 'group') {
    // The setting is signed when the record carries it (a record from before it is signed as it was).
    return JSON.stringify([
      'crewvault/v1 replica record', vault, record.kind, record.id, record.revision, record.sealedName, record.nameIndex, record.keyVersion, record.createdAt, record.deletedAt,
      record.author, record.signerKey, ...(record.serverCodes === undefined ? [] : [record.serverCodes]),
      // The earlier scope keys are signed when the record carries them (after the setting, null when it has none).
      ...(record.sealedScopeKeys === undefined ? [] : [...(record.serverCodes === undefined ? [null] : []), record.sealedScopeKeys]),
    ]);
  }
  if (record.kind === 'member') {
    return JSON.stringify([
      'crewvault/v1 replica record', vault, record.kind, record.id, record.revision, record.group, record.user, record.keyVersion, record.lead, record.byRole,
      record.wrappedKey, record.wrappedSecretKey, record.revoked, record.author, record.signerKey,
    ]);
  }
  if (record.kind === 'customer') {
    return JSON.stringify(['crewvault/v1 replica record', vault, record.kind, record.id, record.revision, record.base, record.sealedName, record.nameIndex, record.createdAt, record.author, record.signerKey]);
  }
  return JSON.stringify([
    'crewvault/v1 replica record', vault, record.kind, record.id, record.revision, record.base, record.customer, record.group, record.keyVersion, record.lookup,
    record.sealedSummary, record.sealedDetails, record.createdAt, record.updatedAt, record.deletedAt, record.author, record.signerKey,
  ]);
}

/** The most records one batch carries (a first sync of a large vault comes in several). */
export const MAX_BATCH_RECORDS = 20_000;

export const replicaBatchSchema = z.strictObject({
  format: z.union([z.literal(REPLICA_FORMAT), z.literal(REPLICA_FORMAT_BATCHED)]),
  /** The vault these records belong to (meta vault_id): a batch for another vault is refused. */
  vault: freeText(64).min(1),
  records: z.array(replicaRecordSchema).max(MAX_BATCH_RECORDS),
  /** Format 2: the signed batches its records name (record-batches.ts). */
  batches: z.array(recordBatchSchema).max(MAX_BATCH_RECORDS).optional(),
});
export type ReplicaBatch = z.infer<typeof replicaBatchSchema>;
