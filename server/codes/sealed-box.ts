/**
 * Opening a TOTP key a desktop sealed to this server's code key (format:
 * shared/sync/server-codes.ts): X25519 with the sender's ephemeral key, HKDF-SHA256, AES-256-GCM
 * with the vault, entry, group and key version as associated data. And the code key's public
 * part and fingerprint, as the server publishes them.
 *
 * Must never: return or log what it opened anywhere but to the caller computing a code, or open
 * a seal under any associated data but the one the stored row names.
 */
import { createDecipheriv, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';
import {
  SEAL_INFO, SEAL_NONCE_BYTES, SEAL_TAG_BYTES, sealedCodeAad, serverCodeKeySchema, X25519_SPKI_BYTES, type SealBinding, type ServerCodeKey,
} from '../../shared/sync/server-codes';

/** The code key's public part as published: SPKI DER, base64url. */
export function codePublicKeyText(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
}

/** The TOTP key, or undefined when the seal was made for another binding or key, or was altered. */
export function openSealedCodeKey(codeKey: KeyObject, codePublicKey: KeyObject, binding: SealBinding, sealed: string): ServerCodeKey | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < X25519_SPKI_BYTES + SEAL_NONCE_BYTES + SEAL_TAG_BYTES + 1) return undefined;
  try {
    const ephemeralDer = bytes.subarray(0, X25519_SPKI_BYTES);
    const ephemeral = createPublicKey({ key: ephemeralDer, format: 'der', type: 'spki' });
    if (ephemeral.asymmetricKeyType !== 'x25519') return undefined;
    const shared = diffieHellman({ privateKey: codeKey, publicKey: ephemeral });
    const salt = Buffer.concat([ephemeralDer, codePublicKey.export({ type: 'spki', format: 'der' })]);
    const key = Buffer.from(hkdfSync('sha256', shared, salt, SEAL_INFO, 32));
    const nonce = bytes.subarray(X25519_SPKI_BYTES, X25519_SPKI_BYTES + SEAL_NONCE_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.from(sealedCodeAad(binding.vault, binding.entry, binding.group, binding.keyVersion), 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - SEAL_TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(X25519_SPKI_BYTES + SEAL_NONCE_BYTES, bytes.length - SEAL_TAG_BYTES)), decipher.final()]);
    const parsed = serverCodeKeySchema.safeParse(JSON.parse(plain.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
