/**
 * The server's own secrets, in `server-keys.json` in its data folder (mode 0600, made at first
 * start): the OPAQUE server setup (its OPRF seed and long-term key pair: without it a stolen
 * registration record cannot be tested against guesses), the state key that seals what a
 * sign-in keeps between its two requests, and the Ed25519 key that signs the server's audit
 * (server/audit.ts). They are never stored in the database, so a dump of
 * the database alone holds nothing to attack a password with. Beside it, `server-code-key.json`
 * (made the same way) holds the X25519 code key that opens the OTP keys desktops seal to the
 * server for groups set to "server computes codes" (server/codes/): its public part is published
 * (GET /v1/codes/key, with a fingerprint an owner compares), its private part never leaves the
 * file. `crewvault server code-key rotate` replaces it (server/codes/key-ring.ts: the old key is kept,
 * retiring, until every such group's keys are sealed again to the new one).
 *
 * Must never: log or return these values, or read a file others may read (a key file with
 * group or other permissions is refused: someone may already have copied it).
 */
import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import { z } from 'zod';
import { CrewvaultError } from '../shared/errors';
import { CodeKeyRing } from './codes/key-ring';

export { SERVER_CODE_KEY_FILE } from './codes/key-ring';

export const SERVER_KEYS_FILE = 'server-keys.json';

export interface ServerKeys {
  /** `opaque.server.createSetup()`'s string: the OPRF seed and the server's key pair. */
  readonly opaqueSetup: string;
  /** 32 bytes for AES-256-GCM over short-lived server state. */
  readonly stateKey: Buffer;
  /** Ed25519: signs the server's audit, each append once at its last event (server/audit.ts). */
  readonly auditKey: KeyObject;
  readonly auditPublicKey: KeyObject;
  /** X25519: open the TOTP keys sealed to the server for server-computed codes (server/codes/key-ring.ts). */
  readonly codeKeys: CodeKeyRing;
}

const keysFileSchema = z.strictObject({
  version: z.literal(1),
  opaqueSetup: z.string().min(1),
  stateKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** PKCS#8 DER, base64url. */
  auditKey: z.string().regex(/^[A-Za-z0-9_-]+$/),
});

/** New keys (a test's server, or the first start). */
export async function createServerKeys(): Promise<ServerKeys> {
  await opaque.ready;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    opaqueSetup: opaque.server.createSetup(), stateKey: randomBytes(32), auditKey: privateKey, auditPublicKey: publicKey,
    codeKeys: CodeKeyRing.inMemory(),
  };
}

/**
 * One of the data folder's key files, read through one descriptor: refused when others may read
 * it (FORBIDDEN, before a byte is parsed) or when it is not the file it should be (VAULT_CORRUPT).
 */
function readKeyFile<T>(file: string, schema: z.ZodType<T>, what: string): T {
  const fd = openSync(file, 'r');
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) {
      throw new CrewvaultError('FORBIDDEN', `${file} may be read by others: check who copied it, then "chmod 600" it`);
    }
    const parsed = schema.safeParse(JSON.parse(readFileSync(fd, 'utf8')));
    if (!parsed.success) throw new CrewvaultError('VAULT_CORRUPT', `${file} is not a Crewvault ${what}`);
    return parsed.data;
  } catch (error) {
    if (error instanceof SyntaxError) throw new CrewvaultError('VAULT_CORRUPT', `${file} is not a Crewvault ${what}`);
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * The data folder's keys, made there (exclusively, 0600) when the folder has none. A second
 * process starting at the same moment reads the first one's file instead of racing it.
 */
export async function loadOrCreateServerKeys(dataDir: string): Promise<{ keys: ServerKeys; created: boolean }> {
  const loaded = await loadOrCreateMainKeys(dataDir);
  return { keys: { ...loaded.keys, codeKeys: CodeKeyRing.loadOrCreate(dataDir) }, created: loaded.created };
}

async function loadOrCreateMainKeys(dataDir: string): Promise<{ keys: ServerKeys; created: boolean }> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, SERVER_KEYS_FILE);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST') return { keys: readServerKeys(file), created: false };
    throw error;
  }
  try {
    const keys = await createServerKeys();
    const auditKey = keys.auditKey.export({ type: 'pkcs8', format: 'der' }).toString('base64url');
    const body = { version: 1, opaqueSetup: keys.opaqueSetup, stateKey: keys.stateKey.toString('base64url'), auditKey };
    writeSync(fd, `${JSON.stringify(body, null, 2)}\n`);
    return { keys, created: true };
  } finally {
    closeSync(fd);
  }
}

function readServerKeys(file: string): ServerKeys {
  const data = readKeyFile(file, keysFileSchema, 'server key file');
  const auditKey = createPrivateKey({ key: Buffer.from(data.auditKey, 'base64url'), format: 'der', type: 'pkcs8' });
  if (auditKey.asymmetricKeyType !== 'ed25519') throw new CrewvaultError('VAULT_CORRUPT', `${file} holds an audit key that is not Ed25519`);
  // The code keys live in a file of their own (read after this one): a placeholder until then.
  return {
    opaqueSetup: data.opaqueSetup,
    stateKey: Buffer.from(data.stateKey, 'base64url'),
    auditKey,
    auditPublicKey: createPublicKey(auditKey),
    codeKeys: CodeKeyRing.inMemory(),
  };
}

/** AES-256-GCM under the state key; `purpose` (e.g. the attempt id) is bound as associated data. */
export function sealState(keys: ServerKeys, purpose: string, plaintext: string): string {
  return sealUnder(keys.stateKey, purpose, plaintext);
}

/** The plaintext, or undefined when the seal was made for another purpose, key or was altered. */
export function openState(keys: ServerKeys, purpose: string, sealed: string): string | undefined {
  return openUnder(keys.stateKey, purpose, sealed);
}

/**
 * A key of its own for secrets the server keeps for a long time and must itself use (an
 * authenticator's TOTP key: the server computes codes to check them, so a hash would not
 * do), derived from the state key so the key file keeps one secret for both. It lives only
 * in the key file: a dump of the database alone opens none of these seals.
 */
function secretsKey(keys: ServerKeys): Buffer {
  return Buffer.from(hkdfSync('sha256', keys.stateKey, Buffer.alloc(0), 'crewvault server secrets v1', 32));
}

/** AES-256-GCM under the secrets key; `purpose` names the secret and whose it is (associated data). */
export function sealSecret(keys: ServerKeys, purpose: string, plaintext: string): string {
  return sealUnder(secretsKey(keys), purpose, plaintext);
}

export function openSecret(keys: ServerKeys, purpose: string, sealed: string): string | undefined {
  return openUnder(secretsKey(keys), purpose, sealed);
}

/**
 * HMAC-SHA256 under a key derived from the state key: how a short code the server only
 * checks (a recovery code) is stored, so a dump of the database cannot be searched for codes
 * without the key file.
 */
export function keyedHash(keys: ServerKeys, purpose: string, value: string): string {
  const key = Buffer.from(hkdfSync('sha256', keys.stateKey, Buffer.alloc(0), 'crewvault server code hashes v1', 32));
  return createHmac('sha256', key).update(`${purpose}|${value}`, 'utf8').digest('hex');
}

function sealUnder(key: Buffer, purpose: string, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(purpose, 'utf8'));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64url');
}

function openUnder(key: Buffer, purpose: string, sealed: string): string | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < 12 + 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(purpose, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
