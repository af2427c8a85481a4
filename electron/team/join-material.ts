/**
 * What a desktop joining a team vault from the server alone opens of its own person (#15, team
 * join step 3, docs/SYNC.md): from a pull or snapshot of the vault, with the owner key handed over
 * with the invite (owner-anchor.ts) and the account key pair the person's server password opened
 * (account-keys.ts). Their user record is the one an owner bound to their account (crewvault user
 * bind): signed by the trusted owner's key (or a key that owner certified for themselves), naming
 * exactly their account's public key — another is ACCOUNT_KEY_CHANGED (the server, or someone,
 * changed it after the owner compared fingerprints) — and carrying the directory key and their
 * signing key's seed wrapped to that key. The seed must be a signing key the trusted owner
 * certified for them that binds their account key. Anything else: a stable code, nothing written.
 * Must never: take a record, key or wrap the trusted owner did not vouch for, or print a key opened here.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { recordSigningText, type ReplicaRecord, type SigningKeyRecord, type UserRecord } from '../../shared/sync/records';
import { certificateText, certificateTextV1 } from '../../shared/sync/signing-keys';
import { unwrapKey } from '../vault/crypto';
import { contexts, DIRECTORY_WRAP_ANCHORED } from '../vault/keys';
import { wrapContext } from '../vault/signer-keys';
import { bindingBytes, signatureValid } from '../vault/signing';
import { rawPublicKey, type AccountKeys } from './account-keys';
import { anchorOwner, type OwnerKey } from './owner-anchor';

export interface JoinMaterial {
  readonly owner: UserRecord;
  /** This person's user record, as the owner bound it. */
  readonly me: UserRecord;
  readonly directoryKey: Buffer;
  readonly directoryVersion: number;
  /** Their signing key (certified by the trusted owner) and its 32-byte seed. */
  readonly signingKey: SigningKeyRecord;
  readonly signingSeed: Buffer;
}

const uidBytes = (text: string): Buffer => Buffer.from(text.replaceAll('-', ''), 'hex');
const b64url = (text: string): Buffer => Buffer.from(text, 'base64url');

/** The Ed25519 public key of a 32-byte seed (PKCS#8 DER of the seed). */
function seedPublicKey(seed: Buffer): Buffer {
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  return b64url(createPublicKey(key).export({ format: 'jwk' }).x ?? '');
}

/** Whether `certifier` certified `record` in vault `vault` (review round seven hole 4), or by the v1 text (no vault) signed before that fix. */
function certifiedBy(vault: string, record: SigningKeyRecord, certifier: Buffer): boolean {
  if (record.certificate === null) return false;
  const publicKey = b64url(record.publicKey).toString('base64');
  return signatureValid(certifier, Buffer.from(certificateText(vault, record.id, record.user, publicKey), 'utf8'), b64url(record.certificate))
    || signatureValid(certifier, Buffer.from(certificateTextV1(record.id, record.user, publicKey), 'utf8'), b64url(record.certificate));
}

export function openJoinMaterial(vault: string, records: readonly ReplicaRecord[], pinned: OwnerKey, accountId: string, keys: AccountKeys): JoinMaterial {
  const owner = anchorOwner(vault, records, pinned);
  // The owner's keys this desktop may believe: the pinned one, and those it certified for the owner (a reset of their own).
  const ownerKeys = new Map<string, Buffer>([[pinned.id, pinned.publicKey]]);
  for (const r of records) {
    if (r.kind === 'signing_key' && r.user === owner.id && r.certifiedBy === pinned.id && certifiedBy(vault, r, pinned.publicKey)) ownerKeys.set(r.id, b64url(r.publicKey));
  }
  // The server hands a vault's records only to an account bound to one of its users, and keeps
  // one record an object (a later one from an owner's desktop names no account): this person's
  // is the newest naming their account's very key.
  const accountKey = rawPublicKey(keys);
  const users = records.filter((r): r is UserRecord => r.kind === 'user');
  const me = users.filter((r) => r.account === accountId || b64url(r.publicKey).equals(accountKey)).at(-1);
  if (me === undefined) throw new CrewvaultError('NOT_FOUND', 'No user of this vault is bound to your account yet: ask the vault\'s owner to run crewvault user bind, comparing your key\'s fingerprint.');
  const signerKey = ownerKeys.get(me.signerKey);
  const { signature, ...unsigned } = me;
  if (me.author !== owner.id || signerKey === undefined || !signatureValid(signerKey, Buffer.from(recordSigningText(vault, unsigned), 'utf8'), b64url(signature))) {
    throw new CrewvaultError('OWNER_KEY_CHANGED', 'Your user record on the team server is not signed by the owner key you trust: nothing was written. Ask the vault\'s owner to bind you again (crewvault user bind).');
  }
  if (!b64url(me.publicKey).equals(accountKey)) {
    throw new CrewvaultError('ACCOUNT_KEY_CHANGED', 'Your user record names another public key than your account\'s: the owner bound a key that is not yours. Nothing was written; read your fingerprint (crewvault login prints it) to the owner again.');
  }
  if (me.wrappedDirectoryKey === undefined || me.wrappedSigningKey === undefined) {
    throw new CrewvaultError('CONFLICT', 'Your user record carries no keys for you yet (bound by an older desktop): ask the vault\'s owner to bind you again with crewvault user bind.');
  }
  const pair = { publicKey: accountKey, privateKey: keys.privateKey };
  const uid = uidBytes(me.id);
  const wrappedDirectory = b64url(me.wrappedDirectoryKey);
  const directoryVersion = wrappedDirectory.length > 4 ? wrappedDirectory.readUInt32BE(0) : 0;
  const directoryKey = unwrapKey(pair, wrappedDirectory.subarray(4), contexts.directoryKey({ uid }, DIRECTORY_WRAP_ANCHORED, directoryVersion));
  const signingSeed = unwrapKey(pair, b64url(me.wrappedSigningKey), wrapContext({ id: 0, uid }));
  const seedPublic = seedPublicKey(signingSeed);
  const signingKey = records.find((r): r is SigningKeyRecord => r.kind === 'signing_key' && r.user === me.id && b64url(r.publicKey).equals(seedPublic));
  const certifier = signingKey?.certifiedBy === null || signingKey?.certifiedBy === undefined ? undefined : ownerKeys.get(signingKey.certifiedBy);
  if (signingKey === undefined || certifier === undefined || !certifiedBy(vault, signingKey, certifier) || signingKey.binding === null
    || !signatureValid(seedPublic, bindingBytes(me.id, accountKey), b64url(signingKey.binding))) {
    signingSeed.fill(0);
    directoryKey.fill(0);
    throw new CrewvaultError('VAULT_TAMPERED', 'Your signing key on the team server is not one the owner you trust certified for your account key: nothing was written.');
  }
  return { owner, me, directoryKey, directoryVersion, signingKey, signingSeed };
}
