/**
 * What the server keeps of a sealed TOTP key to tell a desktop it holds it already (POST /v1/codes/keys/held, schema 33):
 * the desktop's digest of the key (shared/sync/server-codes.ts serverCodeKeyDigest, worked out here from the seal it
 * opened) under HMAC-SHA256 with a key derived from the code key it was sealed to. Whoever reads the database alone
 * cannot test guesses of a short key against it (the plain digest would let them), and a seal to a retiring code key
 * never matches the current one's: it is needed again, as it must be sealed again anyway.
 * Must never: store or log the desktop's digest itself.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { serverCodeKeyDigest, type SealBinding, type ServerCodeKey } from '../../shared/sync/server-codes';
import type { CodeKey } from './key-ring';

const DIGEST_KEY_INFO = 'crewvault/v1 server code held digest';
const keys = new WeakMap<CodeKey, Buffer>();

function digestKeyOf(codeKey: CodeKey): Buffer {
  let key = keys.get(codeKey);
  if (key === undefined) {
    key = Buffer.from(hkdfSync('sha256', codeKey.privateKey.export({ format: 'der', type: 'pkcs8' }), Buffer.alloc(0), DIGEST_KEY_INFO, 32));
    keys.set(codeKey, key);
  }
  return key;
}

/** The keyed form of a desktop's digest, under `codeKey`: what is stored, and what an ask is compared by. */
export function keyedDigest(codeKey: CodeKey, desktopDigest: string): string {
  return createHmac('sha256', digestKeyOf(codeKey)).update(desktopDigest, 'utf8').digest('base64url');
}

/** The keyed digest of a key the server opened from its seal, as the desktop that sealed it names it. */
export function keyedDigestOfSeal(codeKey: CodeKey, binding: SealBinding, key: ServerCodeKey): string {
  return keyedDigest(codeKey, serverCodeKeyDigest(binding, key, (text) => createHash('sha256').update(text, 'utf8').digest('hex')));
}
