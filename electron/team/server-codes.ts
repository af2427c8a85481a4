/**
 * The desktop's half of server-computed codes (format: shared/sync/server-codes.ts): sealing a
 * TOTP key of a group set to "server computes codes" to the team server's code key, bound to the
 * vault, entry, group and key version, the fingerprint of that key as the server shows it, and
 * handing the sealed keys over after a sync round (handOverServerCodes). When the server's code key
 * changed since this process sealed (an administrator rotated it: `crewvault server code-key
 * rotate`), every key is sealed again to the new one. The new key is trusted as the first was:
 * it comes over this desktop's signed-in session to the server whose certificate it pinned (or
 * loopback), and its fingerprint is the one the server's console prints. It is not signed by the
 * old key: a rotation is for a key that may have leaked, and whoever holds a leaked key could sign
 * a successor of their own as well.
 *
 * Must never: seal an HOTP key (its counter lives in the sealed entry, which the server cannot
 * write), seal to a key other than the one pinned for the server, or log a key.
 */
import { createCipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { CrewvaultError, isCrewvaultError } from '../../shared/errors';
import type { OtpParams } from '../../shared/otp';
import {
  codeKeyFingerprint, MAX_SERVER_CODE_RECORDS, SEAL_INFO, SEAL_NONCE_BYTES, sealedCodeAad, serverCodeKeyDigest, serverCodeKeySchema, X25519_SPKI_BYTES, type SealBinding, type ServerCodeKey, type ServerCodeRecord,
} from '../../shared/sync/server-codes';
import type { ServerCodeKeyOut, ServerCodeKeysView } from '../vault/codes-service';
import type { TeamClient } from './client';

/** The server's published code key (SPKI DER, base64url), checked to be X25519. */
export function serverCodePublicKey(text: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(text, 'base64url'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType === 'x25519') return key;
  } catch {
    // fall through: one message for every bad key
  }
  throw new CrewvaultError('SERVER_UNREACHABLE', 'The server\'s code key is not an X25519 key');
}

/** The code key's fingerprint (shared/sync/server-codes.ts: the server prints the same). */
export function serverCodeKeyFingerprint(publicKey: KeyObject): string {
  return codeKeyFingerprint(publicKey.export({ type: 'spki', format: 'der' }), (bytes) => createHash('sha256').update(bytes).digest());
}

/**
 * The server's code key as GET /v1/codes/key hands it: X25519, and the fingerprint it states is
 * the key's own (a reply that says one fingerprint for another key is refused, not sealed to).
 */
export async function fetchServerCodeKey(client: TeamClient): Promise<{ readonly key: KeyObject; readonly fingerprint: string }> {
  const published = await client.call('codesKey', undefined);
  const key = serverCodePublicKey(published.publicKey);
  const fingerprint = serverCodeKeyFingerprint(key);
  if (fingerprint !== published.fingerprint) throw new CrewvaultError('SERVER_UNREACHABLE', 'The server\'s code key does not have the fingerprint it states: nothing was sealed to it');
  return { key, fingerprint };
}

/** What a seal of `params` holds: the parameters the server needs, nothing more. */
function sealedPlainOf(params: OtpParams): ServerCodeKey {
  return serverCodeKeySchema.parse({ kind: params.kind, secret: params.secret, algorithm: params.algorithm, digits: params.digits, period: params.period });
}

/** An ephemeral X25519 key, HKDF-SHA256 and AES-256-GCM over the TOTP key's parameters. */
export function sealCodeKeyForServer(serverKey: KeyObject, binding: SealBinding, params: OtpParams): string {
  if (params.kind === 'hotp') throw new CrewvaultError('INVALID_INPUT', 'The server computes time-based codes only: an HOTP key stays with the people who hold it.');
  const plain = sealedPlainOf(params);
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralDer = ephemeral.publicKey.export({ type: 'spki', format: 'der' });
  if (ephemeralDer.length !== X25519_SPKI_BYTES) throw new CrewvaultError('INTERNAL', 'an X25519 key of an unexpected size');
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: serverKey });
  const salt = Buffer.concat([ephemeralDer, serverKey.export({ type: 'spki', format: 'der' })]);
  const key = Buffer.from(hkdfSync('sha256', shared, salt, SEAL_INFO, 32));
  const nonce = randomBytes(SEAL_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(sealedCodeAad(binding.vault, binding.entry, binding.group, binding.keyVersion), 'utf8'));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  return Buffer.concat([ephemeralDer, nonce, sealed, cipher.getAuthTag()]).toString('base64url');
}

/**
 * What a desktop process remembers of what it handed the server: entry → its group and a digest of
 * what was sealed, the groups it said are off, and the code key (fingerprint) it sealed to.
 */
export interface HandedOver {
  readonly keys: Map<string, { readonly group: string; readonly keyVersion: number; readonly digest: string }>;
  groupsOff: Set<string>;
  codeKey: string | undefined;
}

export function nothingHandedOver(): HandedOver {
  return { keys: new Map(), groupsOff: new Set(), codeKey: undefined };
}

/** What a vault session gives the hand-over (VaultSession.serverCodeKeys). */
export interface ServerCodeKeysSource {
  serverCodeKeys(): Promise<ServerCodeKeysView>;
}

/** Of `keys`, the entries the server needs (POST /v1/codes/keys/held), asked a part at a time; undefined from a server before it. */
async function neededOnServer(client: TeamClient, vault: string, keys: readonly ServerCodeKeyOut[], digestOf: (k: ServerCodeKeyOut) => string): Promise<Set<string> | undefined> {
  const needed = new Set<string>();
  for (let i = 0; i < keys.length; i += MAX_SERVER_CODE_RECORDS) {
    const part = keys.slice(i, i + MAX_SERVER_CODE_RECORDS).map((k) => ({ entry: k.entry, group: k.group, digest: digestOf(k) }));
    try {
      for (const entry of (await client.call('codesHeld', { vault, keys: part })).needed) needed.add(entry);
    } catch (error) {
      if (isCrewvaultError(error) && error.code === 'UNKNOWN_METHOD') return undefined;
      throw error;
    }
  }
  return needed;
}

/**
 * After a sync round: hands the team server the TOTP keys of groups set to "server computes codes" that it does not
 * hold as they are, to its current code key (new, edited, moved, re-keyed, or dropped by the server since: it says
 * which, POST /v1/codes/keys/held, so a new process hands nothing the server holds already), sealed to its code key; a
 * tombstone for each key this process handed or was told held whose entry, still in a group set so, has no TOTP key
 * now (removed or made HOTP; a move out, a deletion or the setting turned off the server ends at that push); and, once
 * a process, the groups it holds that are not set so (the server drops every key of those: a setting turned off is
 * honoured even by a desktop that forgot what it sent). `handed` is this desktop process's memory.
 */
export async function handOverServerCodes(client: TeamClient, source: ServerCodeKeysSource, handed: HandedOver): Promise<{ readonly sealed: number; readonly removed: number }> {
  try {
    return await handOverOnce(client, source, handed);
  } catch (error) {
    // A rotation between fetching the key and sealing: the server refuses seals to its retiring key
    // (CONFLICT). Once more with the key it hands now, if it really changed.
    if (!isCrewvaultError(error) || error.code !== 'CONFLICT' || handed.codeKey === undefined) throw error;
    const { fingerprint } = await fetchServerCodeKey(client);
    if (fingerprint === handed.codeKey) throw error;
    return handOverOnce(client, source, handed);
  }
}

async function handOverOnce(client: TeamClient, source: ServerCodeKeysSource, handed: HandedOver): Promise<{ readonly sealed: number; readonly removed: number }> {
  const { vault, keys, keyless, groupsOff } = await source.serverCodeKeys();
  // Holding keys to hand over: which code key the server seals to now. Another than the one this
  // process sealed to (a rotation) means every key goes again, sealed to the new one.
  const serverKey = keys.length === 0 ? undefined : await fetchServerCodeKey(client);
  if (serverKey !== undefined && handed.codeKey !== undefined && serverKey.fingerprint !== handed.codeKey) handed.keys.clear();
  const digestOf = (k: ServerCodeKeyOut): string => serverCodeKeyDigest({ vault, entry: k.entry, group: k.group, keyVersion: k.keyVersion }, sealedPlainOf(k.params), (text) => createHash('sha256').update(text, 'utf8').digest('hex'));
  // Each round asks the server which keys it does not hold as they are (to its current code key): only those are sealed and
  // handed. Before, a new process (each `crewvault sync` run, each start of the app) sealed every key again, and the server
  // opened, wrote and audited each; and within a process, a seal the server dropped since (an entry moved out and back
  // elsewhere) was never handed again. A server before schema 33 cannot tell: then what this process has not handed goes.
  const needed = await neededOnServer(client, vault, keys, digestOf)
    ?? new Set(keys.filter((k) => handed.keys.get(k.entry)?.digest !== digestOf(k)).map((k) => k.entry));
  const fresh = keys.filter((k) => needed.has(k.entry));
  for (const k of keys) if (!needed.has(k.entry)) handed.keys.set(k.entry, { group: k.group, keyVersion: k.keyVersion, digest: digestOf(k) });
  const current = new Set(keys.map((k) => k.entry));
  // A key that left goes as a tombstone only for an entry still here in a group set so, without a TOTP key (removed, or
  // made HOTP): only a key holder can tell the server that, and the tombstone names the group the entry is in now. Every
  // other way out (the entry moved to a group not set so, or deleted, its group turned off) the server ended itself at the
  // push that made it (server/store/code-seals.ts), and a group this person no longer holds keeps its keys. A tombstone
  // for those, from what this process once handed or was told held, deleted the seal another desktop made after it
  // (pulled between a group turned off and on again, or an entry moved out and on), or was refused as not theirs and
  // stopped every hand-over after it (test/server/codes-held-tombstones.test.ts).
  const keylessHere = new Map(keyless.map((k) => [k.entry, k]));
  for (const [entry] of handed.keys) if (!current.has(entry) && !keylessHere.has(entry)) handed.keys.delete(entry);
  const gone = [...handed.keys].flatMap(([entry]) => {
    const here = current.has(entry) ? undefined : keylessHere.get(entry);
    return here === undefined ? [] : [here];
  });
  // A group turned on again is told again when it is next turned off.
  handed.groupsOff = new Set(groupsOff.filter((g) => handed.groupsOff.has(g)));
  const offToTell = groupsOff.filter((g) => !handed.groupsOff.has(g));
  if (fresh.length === 0 && gone.length === 0 && offToTell.length === 0) return { sealed: 0, removed: 0 };
  const records: Array<{ record: ServerCodeRecord; after: () => void }> = [
    ...fresh.map((k) => ({
      record: { kind: 'server_code' as const, entry: k.entry, group: k.group, keyVersion: k.keyVersion, sealed: serverKey === undefined ? null : sealCodeKeyForServer(serverKey.key, { vault, entry: k.entry, group: k.group, keyVersion: k.keyVersion }, k.params) },
      after: () => handed.keys.set(k.entry, { group: k.group, keyVersion: k.keyVersion, digest: digestOf(k) }),
    })),
    ...gone.map((here) => ({
      record: { kind: 'server_code' as const, entry: here.entry, group: here.group, keyVersion: here.keyVersion, sealed: null },
      after: () => handed.keys.delete(here.entry),
    })),
  ];
  let sealed = 0;
  let removed = 0;
  for (let i = 0; i < Math.max(records.length, 1); i += MAX_SERVER_CODE_RECORDS) {
    const part = records.slice(i, i + MAX_SERVER_CODE_RECORDS);
    const off = i === 0 ? offToTell.slice(0, MAX_SERVER_CODE_RECORDS) : [];
    const out = await client.call('codesSeal', { vault, records: part.map((p) => p.record), ...(off.length === 0 ? {} : { groupsOff: off }) });
    sealed += out.stored;
    removed += out.removed;
    for (const p of part) p.after();
    for (const group of off) handed.groupsOff.add(group);
  }
  if (serverKey !== undefined) handed.codeKey = serverKey.fingerprint;
  return { sealed, removed };
}
