/**
 * Which signing keys are their users' (#15): the one rule a desktop (electron/vault/store-audit.ts)
 * and the team server (server/sync/verify.ts) both judge keys by, and the texts a certificate and
 * an audit event sign. A key is its user's when it is vouched for by a certificate from a key in
 * force of an owner other than that user (only owners reset passwords, which is when a key is
 * made for someone), or when it is that user's first key and introduces itself (made at their own
 * sign-in). Pure: keys are judged in the order given (the desktop's table order, the server's
 * order of storing); the caller checks signatures (shared/ has no crypto).
 * Must never: count a key whose certificate was not checked, a second self-introduced key, or a
 * certificate a disabled owner made after the disable; sign a `v1` text (its checkers exist only
 * for what was signed before hole 4's fix).
 */

/** A key as the rule sees it; `K` names keys and users (local row ids on a desktop, global ids on the server). */
export interface KeyToJudge<K> {
  readonly id: K;
  readonly user: K;
  /** The key whose owner certified this one; null: it introduces itself. */
  readonly certifiedBy: K | null;
  readonly hasCertificate: boolean;
}

/**
 * The keys in force, by id, judged in order. `roleOf(user)`: the user's role now (undefined: no
 * such user, whose keys count for nothing); `certificateHolds(key, certifier)`: whether the key's
 * certificate verifies under the certifier's public key (called only for an owner's key in force).
 * `certifierStood(key, certifier)`: whether the certifier's user was not yet disabled when the key
 * came (review round seven hole 3): a disabled owner vouches for nothing from the moment of the
 * disable, and the keys they certified before it stay theirs. Each judge says when a key came by
 * what it can trust (the server: keys it stored before the disable; a desktop: the key's time
 * before the disable's). A demoted owner's certificates count for nothing at all (roleOf now).
 */
export function keysInForce<K, T extends KeyToJudge<K>>(
  keys: Iterable<T>, roleOf: (user: K) => string | null | undefined, certificateHolds: (key: T, certifier: T) => boolean,
  certifierStood: (key: T, certifier: T) => boolean,
): Map<K, T> {
  const valid = new Map<K, T>();
  const firstOfUser = new Map<K, K>();
  for (const key of keys) {
    if (roleOf(key.user) === undefined) continue;
    if (!firstOfUser.has(key.user)) firstOfUser.set(key.user, key.id);
    const certifier = key.certifiedBy === null ? undefined : valid.get(key.certifiedBy);
    const certified = certifier !== undefined && certifier.user !== key.user && roleOf(certifier.user) === 'owner' && key.hasCertificate
      && certifierStood(key, certifier) && certificateHolds(key, certifier);
    const selfIntroduced = key.certifiedBy === null && !key.hasCertificate && firstOfUser.get(key.user) === key.id;
    if (certified || selfIntroduced) valid.set(key.id, key);
  }
  return valid;
}

/*
 * Certificates and audit events are signed over `crewvault/v2` texts that name the vault (review
 * round seven hole 4), so neither holds in another vault that shares user ids and keys. The `v1`
 * texts (every desktop before that fix) name none, and are taken only where docs/SYNC.md's rule
 * says: what is held already, the vault's move, a device chain the server already holds.
 */

/** What a certificate signs: the vault, the new key (standard base64 of its 32 raw bytes), whose it is and its own id (global ids). */
export function certificateText(vault: string, keyUid: string, userUid: string, publicKeyBase64: string): string {
  return JSON.stringify(['crewvault/v2 signing key', vault, keyUid, userUid, publicKeyBase64]);
}

/** What a certificate signed before hole 4's fix: no vault. Only to check what the rule still takes, never to sign. */
export function certificateTextV1(keyUid: string, userUid: string, publicKeyBase64: string): string {
  return JSON.stringify(['crewvault/v1 signing key', keyUid, userUid, publicKeyBase64]);
}

/** An event as its author signs it: by global ids, its sealed detail in standard base64, its device and the link to that device's previous event in hex. */
export interface EventSigningText {
  readonly uid: string;
  readonly at: number;
  readonly actor: string | null;
  readonly action: string;
  readonly subject: string | null;
  readonly entry: string | null;
  readonly customer: string | null;
  readonly group: string | null;
  readonly sealedDetailBase64: string | null;
  readonly deviceHex: string | null;
  readonly devicePrevHex: string | null;
  readonly signerKey: string | null;
}

/** The text an audit event's author signs (UTF-8) in vault `vault`: the same on every desktop and on the server. */
export function eventSigningText(vault: string, e: EventSigningText): string {
  return JSON.stringify([
    'crewvault/v2 audit event', vault, e.uid, e.at, e.actor, e.action, e.subject, e.entry, e.customer, e.group,
    e.sealedDetailBase64, e.deviceHex, e.devicePrevHex, e.signerKey,
  ]);
}

/** What an audit event signed before hole 4's fix: no vault. Only to check what the rule still takes, never to sign. */
export function eventSigningTextV1(e: EventSigningText): string {
  return JSON.stringify([
    'crewvault/v1 audit event', e.uid, e.at, e.actor, e.action, e.subject, e.entry, e.customer, e.group,
    e.sealedDetailBase64, e.deviceHex, e.devicePrevHex, e.signerKey,
  ]);
}
