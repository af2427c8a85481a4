/**
 * The trust anchor of a desktop joining a team vault from the server alone (#15, docs/SYNC.md
 * "A new desktop's first sync without a file copy"): a fresh desktop holds no key yet, so it must
 * not believe whatever owner the server hands it. The owner who moved the vault is told their
 * signing key (`crewvault sync --move` prints it: its global id and public key, with a short
 * fingerprint to read aloud) and hands it over with the invite, out of band. The joining desktop
 * pins it and takes the owner's user record from the server only as signed by that very key —
 * the server relays no key that introduces itself (server/sync/records.ts), so the key itself
 * comes with the invite, never from the server. From there every other key and user chains to it
 * as on any desktop (keys certified by an owner's key in force: shared/sync/signing-keys.ts;
 * users set by owners and admins: electron/vault/replica-people-new.ts). A server that
 * substitutes another owner, or the owner's record under another key, is refused:
 * OWNER_KEY_CHANGED, one line, nothing written.
 * Must never: accept an owner by anything but the pinned key, nor print a private key.
 */
import { createHash } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { recordSigningText, type ReplicaRecord, type UserRecord } from '../../shared/sync/records';
import { signatureValid } from '../vault/signing';

/** The owner's signing key as handed over: its global id and its 32 raw Ed25519 bytes. */
export interface OwnerKey {
  readonly id: string;
  readonly publicKey: Buffer;
}

/** A signing key's fingerprint, to read aloud: SHA-256 of its 32 raw bytes, the first 16 in groups of four hex digits (as the code key's). */
export function signingKeyFingerprint(publicKey: Buffer): string {
  const hex = createHash('sha256').update(publicKey).digest('hex').slice(0, 32);
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}

/** The owner key as text to hand over: `KEY-ID:PUBLIC-KEY` (base64url), one word. */
export function ownerKeyText(key: OwnerKey): string {
  return `${key.id}:${key.publicKey.toString('base64url')}`;
}

/** The owner key a person typed or pasted (`KEY-ID:PUBLIC-KEY`), or INVALID_INPUT. */
export function parseOwnerKey(text: string): OwnerKey {
  const match = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):([A-Za-z0-9_-]{43})$/.exec(text.trim());
  const publicKey = match?.[2] === undefined ? undefined : Buffer.from(match[2], 'base64url');
  if (match?.[1] === undefined || publicKey?.length !== 32) {
    throw new CrewvaultError('INVALID_INPUT', 'An owner key is KEY-ID:PUBLIC-KEY, as crewvault sync --move prints it.');
  }
  return { id: match[1], publicKey };
}

/**
 * The vault's owner as `records` (a pull or snapshot of vault `vault`) name them, found by the
 * pinned owner key: a user record of an owner, set by themselves, signed with exactly that key
 * and holding under it. None: OWNER_KEY_CHANGED, naming the keys the server's owner records are
 * signed with (to compare with what the owner handed over).
 */
export function anchorOwner(vault: string, records: readonly ReplicaRecord[], pinned: OwnerKey): UserRecord {
  const owners = records.filter((r): r is UserRecord => r.kind === 'user' && r.role === 'owner' && r.author === r.id);
  for (const owner of owners) {
    if (owner.signerKey !== pinned.id) continue;
    const { signature, ...unsigned } = owner;
    if (signatureValid(pinned.publicKey, Buffer.from(recordSigningText(vault, unsigned), 'utf8'), Buffer.from(signature, 'base64url'))) return owner;
  }
  const seen = owners.length === 0 ? 'it names no owner' : `its owner records are signed with ${owners.map((o) => o.signerKey).join(', ')}, or do not hold under the key you trust`;
  throw new CrewvaultError('OWNER_KEY_CHANGED', `The team server's copy of vault ${vault} is not vouched for by the owner key you trust (${pinned.id}, fingerprint ${signingKeyFingerprint(pinned.publicKey)}): ${seen}. Nothing was written; ask the vault's owner for their key again.`);
}
