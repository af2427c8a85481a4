/**
 * A new vault file for a person joining a team vault from the server alone (#15, team join,
 * docs/SYNC.md): made as createVault makes one, but holding what the team vault already is — its
 * id, this person as its user (their vault id and role, their account's key pair sealed under the
 * new local password), the owner the invite named (their first signing key, pinned: the trust
 * anchor every other key and user chains to), this person's owner-certified signing key with its
 * seed, and the directory key at its version. Everything else comes with the first sync.
 * Must never: write a file over one that exists, or trust an owner key other than the pinned one.
 */
import type { Role } from '../../shared/policy';
import { exportPrivateKey, seal, wrapKey, type KeyPair } from './crypto';
import { wrapDirectoryFor } from './directory';
import { contexts, KeyRing } from './keys';
import { prepareUser, type KdfOptions } from './records';
import { VaultSession, type Clock } from './service';
import { wrapContext } from './signer-keys';
import { signingKeyFromSeed } from './signing';
import { SqliteVaultStore } from './store';
import { appendAudit } from './store-audit';
import { setDirectoryVersion } from './store-directory';
import { setMeta } from './store-meta';
import { insertSigningKey, setUserSigning } from './store-signing';
import { insertUser } from './store-users';
import { VAULT_FORMAT } from './db';

export interface JoinedVaultOptions {
  readonly vaultId: string;
  readonly person: { readonly uid: string; readonly name: string; readonly role: Role };
  /** The person's account key pair (raw public key). */
  readonly keyPair: KeyPair;
  readonly password: string;
  readonly kdf?: KdfOptions;
  readonly clock: Clock;
  readonly owner: { readonly uid: string; readonly name: string; readonly publicKey: Buffer };
  /** The owner's first signing key, as handed over with the invite. */
  readonly ownerKey: { readonly uid: string; readonly publicKey: Buffer };
  readonly signingKey: { readonly uid: string; readonly publicKey: Buffer; readonly createdAt: number; readonly certificate: Buffer; readonly binding: Buffer };
  readonly signingSeed: Buffer;
  readonly directoryKey: Buffer;
  readonly directoryVersion: number;
}

const uidBytes = (text: string): Buffer => Buffer.from(text.replaceAll('-', ''), 'hex');

export async function createJoinedVault(file: string, o: JoinedVaultOptions): Promise<VaultSession> {
  const prepared = await prepareUser(o.password, o.kdf ?? {});
  const store = SqliteVaultStore.create(file, true);
  const privateRaw = exportPrivateKey(o.keyPair.privateKey);
  try {
    const now = o.clock.now();
    const ring = new KeyRing(o.keyPair, Buffer.from(o.directoryKey), o.directoryVersion);
    const { value: me } = await store.write((w) => {
      setMeta(w, 'format', VAULT_FORMAT);
      setMeta(w, 'vault_id', o.vaultId);
      setMeta(w, 'created_at', String(now));
      setDirectoryVersion(w, o.directoryVersion);
      const ownerId = insertUser(w, {
        uid: uidBytes(o.owner.uid), name: o.owner.name, role: 'owner', kdf: JSON.stringify({ ...prepared.params, salt: Buffer.alloc(16).toString('base64') }), public_key: o.owner.publicKey,
        sealed_private_key: Buffer.alloc(0), created_at: now,
      });
      // The pinned key, first of its user's: in force here as their self-introduced first key (shared/sync/signing-keys.ts).
      const ownerKeyId = insertSigningKey(w, { uid: uidBytes(o.ownerKey.uid), user_id: ownerId, public_key: o.ownerKey.publicKey, created_at: now, certified_by: null, certificate: null, binding: null });
      const uid = uidBytes(o.person.uid);
      const id = insertUser(w, {
        uid, name: o.person.name, role: o.person.role, kdf: JSON.stringify(prepared.params), public_key: o.keyPair.publicKey,
        sealed_private_key: seal(prepared.kek, privateRaw, contexts.privateKey({ uid })), created_at: now,
      });
      const keyUid = uidBytes(o.signingKey.uid);
      const keyId = insertSigningKey(w, { uid: keyUid, user_id: id, public_key: o.signingKey.publicKey, created_at: o.signingKey.createdAt, certified_by: ownerKeyId, certificate: o.signingKey.certificate, binding: o.signingKey.binding });
      setUserSigning(w, id, keyId, wrapKey(o.keyPair.publicKey, o.signingSeed, wrapContext({ id, uid })));
      ring.signer = { keyId, keyUid, privateKey: signingKeyFromSeed(o.signingSeed, o.signingKey.publicKey) };
      wrapDirectoryFor(w, ring, { id, uid, public_key: o.keyPair.publicKey });
      appendAudit(w, { at: now, actor_id: id, action: 'vault.join', subject: o.person.name }, undefined, ring);
      return { id, uid };
    });
    return new VaultSession(store, o.clock, { id: me.id, name: o.person.name, role: o.person.role }, ring, me);
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    privateRaw.fill(0);
    prepared.kek.fill(0);
  }
}
