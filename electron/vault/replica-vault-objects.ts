/**
 * Custom roles, the vault settings and the vault's MFA policy as replica records (#15, task 15,
 * shared/sync/records.ts `role`, `settings`, `mfa_policy`): what this desktop sends of them, and
 * how it takes them from another. Each is the vault's to everyone, so only an owner or admin sends
 * or is believed (shared/policy whyNotManageVault, as `role define` in a team vault, `crewvault
 * settings` and `policy mfa` ask here; the owner role's MFA level an owner's alone); a record from
 * anyone else is set aside (VAULT_TAMPERED, one line). A record goes when its object's revision here
 * is above the one last agreed with the server (replica_base, under the record's id: vaultObjectId),
 * with that agreed one as its base; the server answers a stale base with CONFLICT. Taken in: the
 * object as the record says, at its revision (agreed). A change made here and not sent that a record
 * crosses gives way to it (it reached the server first) and is told (crossed, audited).
 * Must never: send or take a record its sender could not have made on this desktop, or carry a secret.
 */
import { createHash } from 'node:crypto';
import { MFA_POLICY_LEVELS, type MfaPolicyLevel } from '../../shared/model';
import { isBuiltInRole, ROLES, whyNotManageVault, type Role } from '../../shared/policy';
import { recordSigningText, vaultObjectId, type MfaPolicyRecord, type ReplicaRecord, type RoleRecord, type SettingsRecord, type Unsigned, type UserRecord, type VaultObjectRecord } from '../../shared/sync/records';
import type { ReadDb, WriteDb } from './db';
import { uidText } from './ids';
import { readMfaPolicy, type MfaPolicy } from './mfa';
import { signedHere, signerOf, tampered, type PeopleIntake } from './replica-people-checks';
import { readSettings, SETTING_KEYS } from './settings-service';
import { getMeta, getSetting, setMeta, setSetting } from './store-meta';
import { agreedUser } from './store-replica-people';
import { getUser } from './store-users';
import { setMfaPolicySetting } from './store-mfa';
import { replicaBase, setReplicaBase } from './store-replica';
import { settingsRevision, setSettingsRevision } from './store-revisions';
import { foldRoleName, listCustomRoles, putSyncedRole, renameCustomRole } from './store-roles';
import { signBytes, type Signer } from './signing';

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const uidBytes = (text: string): Buffer => Buffer.from(text.replaceAll('-', ''), 'hex');

/** Who sends: their vault user, role and signing key. */
export interface ObjectSender {
  readonly userUid: string;
  readonly role: Role;
  readonly signer: Signer;
}

/** The sender's signature over a record's signing text (each caller adds it to its own kind's record). */
function signatureOf(vault: string, sender: ObjectSender, record: Unsigned<VaultObjectRecord>): string {
  return signBytes(sender.signer.privateKey, Buffer.from(recordSigningText(vault, record), 'utf8')).toString('base64url');
}

/**
 * The role, settings and policy records this desktop owes the server: each object changed here
 * since last agreed (every custom role made before task 15 included: agreed 0), when its person is
 * an owner or admin; none otherwise (a custom role with users.manage defines roles on its own
 * desktop only: the server would refuse them).
 */
export function vaultObjectRecords(db: ReadDb, vault: string, sender: ObjectSender): VaultObjectRecord[] {
  if (whyNotManageVault({ role: sender.role }) !== undefined) return [];
  const by = { author: sender.userUid, signerKey: uidText(sender.signer.keyUid) };
  const out: VaultObjectRecord[] = [];
  for (const role of listCustomRoles(db)) {
    const id = vaultObjectId(vault, 'role', sha256Hex, role.name);
    const base = replicaBase(db, uidBytes(id));
    if (role.revision <= base) continue;
    const record: Unsigned<RoleRecord> = { kind: 'role', id, revision: role.revision, base, name: role.name, permissions: [...role.permissions], ...by };
    out.push({ ...record, signature: signatureOf(vault, sender, record) });
  }
  const settingsId = vaultObjectId(vault, 'settings', sha256Hex);
  const settingsBase = replicaBase(db, uidBytes(settingsId));
  const settings = readSettings(db);
  if (settings.revision > settingsBase) {
    const record: Unsigned<SettingsRecord> = {
      kind: 'settings', id: settingsId, revision: settings.revision, base: settingsBase,
      idleLockMinutes: settings.idleLockMinutes, clipboardClearSeconds: settings.clipboardClearSeconds, trustDeviceDays: settings.trustDeviceDays, ...by,
    };
    out.push({ ...record, signature: signatureOf(vault, sender, record) });
  }
  const policyId = vaultObjectId(vault, 'mfa_policy', sha256Hex);
  const policyBase = replicaBase(db, uidBytes(policyId));
  const policyRevision = settingsRevision(db, 'mfa_policy');
  if (policyRevision > policyBase) {
    const policy = readMfaPolicy(db);
    const record: Unsigned<MfaPolicyRecord> = { kind: 'mfa_policy', id: policyId, revision: policyRevision, base: policyBase, global: policy.global, roles: policyRolesAsSpelt(db, policy), ...by };
    out.push({ ...record, signature: signatureOf(vault, sender, record) });
  }
  return out;
}

/**
 * The server's sequence up to which this file was handed the role, settings and policy records
 * (review 12a hole 3): a desktop from before task 15 pulled without naming these kinds, so its
 * cursor moved past the ones stored then, never handed. sync.ts notes here the cursor each pull
 * naming them reached, and takes once what lies between this and the cursor (a snapshot's
 * `objects` part). Absent (a file from before it): 0.
 */
const OBJECTS_UP_TO_META = 'replica_objects_up_to';

export function vaultObjectsUpTo(db: ReadDb): number {
  const text = getMeta(db, OBJECTS_UP_TO_META);
  const seq = text === undefined ? 0 : Number(text);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
}

export function noteVaultObjectsUpTo(db: WriteDb, seq: number): void {
  setMeta(db, OBJECTS_UP_TO_META, String(seq));
}

/** A sent record of these kinds was stored: its revision is agreed. */
export function markVaultObjectSent(db: WriteDb, record: ReplicaRecord): void {
  if (record.kind !== 'role' && record.kind !== 'settings' && record.kind !== 'mfa_policy') return;
  if (record.revision > replicaBase(db, uidBytes(record.id))) {
    setReplicaBase(db, uidBytes(record.id), record.revision);
    if (record.kind === 'mfa_policy') noteAgreedPolicy(db, record.revision, { global: record.global, roles: Object.fromEntries(record.roles) });
  }
}

/**
 * The MFA policy as last agreed with the team (review 12a hole 2), kept beside its agreed revision
 * (replica_base): what an admin's record is judged by, not this file's own unsent change. Local
 * bookkeeping in settings; none for a policy agreed before it was kept.
 */
const AGREED_POLICY_KEY = 'replica.agreed_mfa_policy';

function noteAgreedPolicy(db: WriteDb, revision: number, policy: MfaPolicy): void {
  setSetting(db, AGREED_POLICY_KEY, JSON.stringify({ revision, policy }));
}

/** The policy agreed at `agreed`: as noted, or this file's own when nothing was changed here since; undefined when neither is known. */
function agreedPolicy(db: ReadDb, agreed: number): MfaPolicy | undefined {
  const text = getSetting(db, AGREED_POLICY_KEY);
  const noted = text === undefined ? undefined : JSON.parse(text) as { revision?: unknown; policy?: MfaPolicy };
  if (noted !== undefined && noted.revision === agreed && noted.policy !== undefined) return noted.policy;
  return settingsRevision(db, 'mfa_policy') <= agreed ? readMfaPolicy(db) : undefined;
}

/**
 * Takes the batch's role, settings and MFA policy records (before the people records: a user record
 * may give a role the batch defines). Each through `take` (a refusal sets it aside alone).
 */
export function takeVaultObjects(db: WriteDb, intake: PeopleIntake, records: readonly ReplicaRecord[], take: (r: ReplicaRecord, work: () => void) => void, count: (taken: 'applied' | 'unchanged') => void): void {
  for (const [index, r] of records.entries()) {
    if (r.kind === 'role' || r.kind === 'settings' || r.kind === 'mfa_policy') take(r, () => count(takeVaultObject(db, intake, r, records, index)));
  }
}

/**
 * The signer's role where the record stands in the server's order (review 12a hole 5), not as
 * this file has them now. `records` is the apply's list in the server's order (set-aside records
 * first, then the page): a user record of the signer before it in that list says their role then;
 * else the role last agreed with the team (store-replica-people.ts agreedUser) when this file
 * changed them since and has not sent it (that change comes after the record in the server's
 * order: it reached the server first); else their role here. A user record of the signer AFTER it
 * in the list whose revision skips one this file never saw (a promotion and a demotion between two
 * syncs: the server keeps only a person's newest record) leaves their role then unknown here:
 * 'unseen', and the server's own check when it stored the record stands (docs/SYNC.md).
 */
function signerRoleAt(db: ReadDb, intake: PeopleIntake, r: VaultObjectRecord, signer: { readonly id: number; readonly role: Role }, records: readonly ReplicaRecord[], index: number): { readonly role: Role } | 'unseen' {
  const uid = uidBytes(r.author);
  const agreedRevision = replicaBase(db, uid);
  const here = getUser(db, signer.id);
  const unsent = here !== undefined && here.revision > agreedRevision;
  const agreed = unsent ? agreedUser(db, uid) : undefined;
  let role: Role = agreed?.role ?? signer.role;
  let revision = unsent ? agreedRevision : (here?.revision ?? agreedRevision);
  // Only a user record holding under its signer's signature here says anything (a relay cannot make one up).
  const ofSigner = (x: ReplicaRecord): x is UserRecord => x.kind === 'user' && uidBytes(x.id).equals(uid) && signedHere(db, intake, x);
  const before = records.slice(0, index).filter(ofSigner).filter((x) => x.revision > revision).at(-1);
  if (before !== undefined) {
    role = before.role;
    revision = before.revision;
  }
  const after = records.slice(index + 1).find(ofSigner);
  return after !== undefined && after.revision > revision + 1 ? 'unseen' : { role };
}

function takeVaultObject(db: WriteDb, intake: PeopleIntake, r: VaultObjectRecord, records: readonly ReplicaRecord[], index: number): 'applied' | 'unchanged' {
  const uid = uidBytes(r.id);
  const agreed = replicaBase(db, uid);
  // At or below the agreed revision: stale, whatever it says (a relay playing an older one back).
  if (r.revision <= agreed) return 'unchanged';
  if (r.id !== vaultObjectId(intake.vault, r.kind, sha256Hex, r.kind === 'role' ? r.name : '')) throw tampered(`is a ${r.kind} record not named by what it is`);
  const found = signerRoleAt(db, intake, r, signerOf(db, intake, r), records, index);
  // Unseen: the server stored it only from an owner or admin (server/sync/records.ts); judged as an admin's from here on.
  const signer = found === 'unseen' ? { role: 'admin' } : found;
  const whyNot = whyNotManageVault({ role: signer.role });
  if (whyNot !== undefined) throw tampered(`sets the vault's ${r.kind === 'role' ? 'roles' : r.kind === 'settings' ? 'settings' : 'MFA policy'}, and its sender may not (${whyNot})`);
  if (r.kind === 'role') takeRole(db, intake, r, agreed);
  else if (r.kind === 'settings') takeSettings(db, intake, r, agreed);
  else takePolicy(db, intake, r, agreed, signer.role);
  setReplicaBase(db, uid, r.revision);
  return 'applied';
}

function takeRole(db: WriteDb, intake: PeopleIntake, r: RoleRecord, agreed: number): void {
  if (isBuiltInRole(r.name)) throw tampered('redefines a built-in role');
  // The role of this name as people read it (its record's id is the folded name): spelt otherwise here, it takes the team's spelling.
  const local = listCustomRoles(db).find((role) => foldRoleName(role.name) === foldRoleName(r.name));
  if (local !== undefined && local.revision > agreed && !samePermissions(local.permissions, r.permissions)) {
    intake.crossed(`role ${r.name}`, `Role ${r.name}: redefined here as ${local.permissions.join(', ') || '(none)'} and not sent; the team's definition, stored first, is kept: ${r.permissions.join(', ') || '(none)'}`);
  }
  if (local !== undefined && local.name !== r.name) adoptRoleName(db, local.name, r.name);
  putSyncedRole(db, { name: r.name, permissions: r.permissions }, r.revision, intake.now);
}

/**
 * Respells a custom role as the team's record does (review round twelve (a)): the role, its holders
 * and the MFA policy's line for it, so every record this desktop sends names it as the server holds
 * it (the server refuses any other spelling: server/sync/membership.ts). Its permissions follow.
 */
function adoptRoleName(db: WriteDb, from: string, to: string): void {
  renameCustomRole(db, from, to);
  const policy = readMfaPolicy(db);
  if (Object.keys(policy.roles).some((name) => name.toLowerCase() === from.toLowerCase())) {
    const roles = Object.fromEntries(Object.entries(policy.roles).map(([name, level]) => [name.toLowerCase() === from.toLowerCase() ? to : name, level]));
    setMfaPolicySetting(db, JSON.stringify({ ...policy, roles }));
  }
}

function takeSettings(db: WriteDb, intake: PeopleIntake, r: SettingsRecord, agreed: number): void {
  const local = readSettings(db);
  const values = { idleLockMinutes: r.idleLockMinutes, clipboardClearSeconds: r.clipboardClearSeconds, trustDeviceDays: r.trustDeviceDays };
  if (local.revision > agreed && (local.idleLockMinutes !== values.idleLockMinutes || local.clipboardClearSeconds !== values.clipboardClearSeconds || local.trustDeviceDays !== values.trustDeviceDays)) {
    intake.crossed('vault settings', 'Vault settings: changed here and not sent; the team\'s, stored first, are kept');
  }
  for (const [key, value] of Object.entries(values) as Array<[keyof typeof values, number]>) setSetting(db, SETTING_KEYS[key], String(value));
  setSettingsRevision(db, 'settings', r.revision);
}

function takePolicy(db: WriteDb, intake: PeopleIntake, r: MfaPolicyRecord, agreed: number, signerRole: Role): void {
  const local = readMfaPolicy(db);
  const levelFor = (p: MfaPolicy): MfaPolicyLevel | undefined => Object.entries(p.roles).find(([name]) => name.toLowerCase() === 'owner')?.[1];
  const roles = Object.fromEntries(r.roles) as Record<string, MfaPolicyLevel>;
  // The owner role's own level is an owner's to set (whyNotManageVault): an admin's record changing it is not believed.
  // Judged against the policy last agreed with the team (review 12a hole 2), not an unsent change of this file's own.
  // A record built on versions this desktop never saw (its base above the agreed revision: a pull hands only
  // the newest) carries the owner level the server held when it stored it, which it checks (records.ts): not judged here.
  const agreedOne = agreedPolicy(db, agreed) ?? local;
  if (signerRole !== 'owner' && r.base <= agreed && levelFor({ global: r.global, roles }) !== levelFor(agreedOne)) throw tampered(`sets the owner role's MFA level, and its sender may not (${whyNotManageVault({ role: signerRole }, 'owner') ?? ''})`);
  if (!r.roles.every(([, level]) => (MFA_POLICY_LEVELS as readonly string[]).includes(level))) throw tampered('names an MFA level this desktop does not know');
  const next: MfaPolicy = { global: r.global, roles };
  if (settingsRevision(db, 'mfa_policy') > agreed && JSON.stringify(next) !== JSON.stringify(local)) {
    intake.crossed('MFA policy', 'MFA policy: changed here and not sent; the team\'s, stored first, is kept');
  }
  setMfaPolicySetting(db, JSON.stringify(next));
  setSettingsRevision(db, 'mfa_policy', r.revision);
  noteAgreedPolicy(db, r.revision, next);
}

function samePermissions(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p) => b.includes(p));
}

/**
 * The policy's role lines as a record carries them (review round twelve (a)): each role once and
 * exactly as it is defined, the one spelling the server takes. A file from before role names were
 * resolved (#11) may hold "Technician", or one role in two capitals; each line is read as policyFor
 * reads it (the role whose name it matches without case, the first such line), and a line that
 * matches no role, which applies to nobody here, is left out: what applies to whom is unchanged.
 */
function policyRolesAsSpelt(db: ReadDb, policy: MfaPolicy): Array<[string, MfaPolicyLevel]> {
  const names = [...ROLES, ...listCustomRoles(db).map((r) => r.name)];
  const lines = new Map<string, MfaPolicyLevel>();
  for (const [name, level] of Object.entries(policy.roles)) {
    const role = names.find((n) => n.toLowerCase() === name.toLowerCase());
    if (role !== undefined && !lines.has(role)) lines.set(role, level);
  }
  return [...lines];
}
