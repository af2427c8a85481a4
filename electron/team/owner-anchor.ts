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
import { eventSigningText, eventSigningTextV1 } from '../../shared/sync/signing-keys';
import { signatureValid } from '../vault/signing';
import { eventRecordSigningText, eventTextV3, isV3, recordV3Columns } from '../vault/audit-event-texts';

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
 * pinned owner key, and still the vault's owner by what the records say (the join's safety net):
 * - who the key is: the author of the user records signed with it (holding under it), else the
 *   actor of an event signed with it (the owner's first key introduces itself, so the server
 *   relays no key record for it); records signed with it naming two people, two records of the
 *   owner, or a key record under its id naming someone else or another key: VAULT_TAMPERED; a
 *   person's own record claiming the key that does not hold under it: OWNER_KEY_CHANGED;
 * - their record (the server keeps one an object, so the newest): set by themselves with exactly
 *   that key, an owner, not disabled. A record of them set by someone else (another owner's
 *   disable or role change, or the server's forgery: the joiner cannot tell which, as it holds no
 *   key of that other owner) or none vouched for at all: OWNER_KEY_CHANGED, one line.
 * What stays uncheckable here (docs/SYNC.md): a server that withholds the newer record (the
 * disable) and hands the old one, and a record re-enabling a disabled owner signed with their
 * leaked key and stored by a dishonest server.
 */
export function anchorOwner(vault: string, records: readonly ReplicaRecord[], pinned: OwnerKey): UserRecord {
  const users = records.filter((r): r is UserRecord => r.kind === 'user');
  const trusted = `the owner key you trust (${pinned.id}, fingerprint ${signingKeyFingerprint(pinned.publicKey)})`;
  const tampered = (why: string): CrewvaultError => new CrewvaultError('VAULT_TAMPERED', `The team server's copy of vault ${vault} ${why}: nothing was written.`);
  const claiming = users.filter((r) => r.signerKey === pinned.id);
  const holding = claiming.filter((r) => holdsUnder(vault, r, pinned.publicKey));
  const authors = new Set(holding.map((r) => r.author));
  if (authors.size > 1) throw tampered(`names ${authors.size} different people as signers of ${trusted}`);
  const ownerId = [...authors][0] ?? actorOfEvents(vault, records, pinned);
  for (const k of records) {
    if (k.kind === 'signing_key' && k.id === pinned.id && (k.user !== ownerId || !Buffer.from(k.publicKey, 'base64url').equals(pinned.publicKey))) {
      throw tampered(`holds a signing key record under the id of ${trusted} naming another person or key`);
    }
  }
  const ownerRecords = users.filter((r) => r.id === ownerId);
  // The server keeps one record an object: two of the owner are a relay's choice of which to believe.
  if (ownerRecords.length > 1) throw tampered(`holds ${ownerRecords.length} records of the owner ${trusted} names`);
  const owner = ownerRecords[0];
  if (owner === undefined || ownerId === undefined) {
    const owners = users.filter((r) => r.role === 'owner' && r.author === r.id);
    const seen = owners.length === 0 ? 'it names no owner' : `its owner records are signed with ${owners.map((o) => o.signerKey).join(', ')}, or do not hold under the key you trust`;
    throw new CrewvaultError('OWNER_KEY_CHANGED', `The team server's copy of vault ${vault} is not vouched for by ${trusted}: ${seen}. Nothing was written; ask the vault's owner for their key again.`);
  }
  const refused = (why: string): CrewvaultError => new CrewvaultError('OWNER_KEY_CHANGED', `The team server's copy of vault ${vault} is not vouched for by ${trusted}: ${why}. Nothing was written; ask a current owner of the vault for their key.`);
  // A record of someone's own claiming the key that does not hold under it: the server's key for that id is not the one handed over.
  const forged = claiming.find((r) => r.author === r.id && !holding.includes(r));
  if (forged !== undefined) throw refused(`the record of ${forged.name} claims that key and does not hold under that key`);
  if (owner.author !== owner.id || owner.signerKey !== pinned.id) throw refused(`its owner ${owner.name} was last set by someone else (signed with ${owner.signerKey}: a disable or role change by another owner, or the server's own)`);
  if (owner.role !== 'owner') throw refused(`its owner ${owner.name} is no longer an owner (their record says ${owner.role})`);
  if (owner.disabledAt !== null) throw refused(`its owner ${owner.name} is disabled`);
  return owner;
}

/** Whether a record holds under `publicKey` (signed over its text in vault `vault`). */
function holdsUnder(vault: string, record: UserRecord, publicKey: Buffer): boolean {
  const { signature, ...unsigned } = record;
  return signatureValid(publicKey, Buffer.from(recordSigningText(vault, unsigned), 'utf8'), Buffer.from(signature, 'base64url'));
}

/** The actor of the first event signed with the pinned key that holds under it (v3 or v2 for `vault`, or v1 from before hole 4's fix). */
function actorOfEvents(vault: string, records: readonly ReplicaRecord[], pinned: OwnerKey): string | undefined {
  for (const r of records) {
    if (r.kind !== 'event' || r.signerKey !== pinned.id || r.signature === null || r.actor === null) continue;
    const fields = eventRecordSigningText(r);
    const signature = Buffer.from(r.signature, 'base64url');
    // A v3 event (whole or redacted) holds over its header and its body's digest; the actor is in the header.
    const v3 = recordV3Columns(r);
    if (isV3(v3)) {
      const text = eventTextV3(vault, fields, v3);
      if (text !== undefined && signatureValid(pinned.publicKey, Buffer.from(text, 'utf8'), signature)) return r.actor;
      continue;
    }
    if (signatureValid(pinned.publicKey, Buffer.from(eventSigningText(vault, fields), 'utf8'), signature)
      || signatureValid(pinned.publicKey, Buffer.from(eventSigningTextV1(fields), 'utf8'), signature)) return r.actor;
  }
  return undefined;
}
