// The vault's seal and open (electron/vault/crypto.ts), AES-256-GCM with the object's context as
// associated data: a seal opens to its plaintext under its key and context, and nothing else does.
// Every byte of a seal changed, a wrong key, another context, a cut seal: VAULT_TAMPERED, the same
// one error. Must never: hand on plaintext from a seal whose tag did not hold.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { batchKey, open, openJson, randomKey, seal, sealJson, type SealContext } from '../../electron/vault/crypto';

const context: SealContext = { table: 'entries', row: undefined, uid: '00000005-0000-7000-8000-000000000005', field: 'summary', keyVersion: 1 };

function tamperedBy(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('seal and open', () => {
  it('opens what it sealed, of every length from nothing to many blocks, with the key as bytes or as a KeyObject', () => {
    const key = randomKey();
    for (const length of [0, 1, 15, 16, 17, 255, 4_097]) {
      const plaintext = randomBytes(length);
      const sealed = seal(key, plaintext, context);
      expect(open(key, sealed, context).equals(plaintext)).toBe(true);
      expect(open(batchKey(key), sealed, context).equals(plaintext)).toBe(true);
    }
    expect(openJson(key, sealJson(key, { t: 'Router', u: 'admin' }, context), context)).toEqual({ t: 'Router', u: 'admin' });
  });

  it('refuses every changed byte, another key, another context and a cut seal as tampered', () => {
    const key = randomKey();
    const sealed = seal(key, Buffer.from('the summary of an entry, long enough to span blocks', 'utf8'), context);
    for (let at = 0; at < sealed.length; at++) {
      const changed = Buffer.from(sealed);
      changed[at] = (changed[at] ?? 0) ^ 0x01;
      expect(tamperedBy(() => open(key, changed, context)), `byte ${at}`).toBe('VAULT_TAMPERED');
    }
    expect(tamperedBy(() => open(randomKey(), sealed, context))).toBe('VAULT_TAMPERED');
    for (const other of [{ ...context, field: 'details' }, { ...context, keyVersion: 2 }, { ...context, uid: '00000006-0000-7000-8000-000000000006' }, { ...context, table: 'customers' }]) {
      expect(tamperedBy(() => open(key, sealed, other))).toBe('VAULT_TAMPERED');
    }
    for (const length of [0, 1, 28, sealed.length - 1]) expect(tamperedBy(() => open(key, sealed.subarray(0, length), context))).toBe('VAULT_TAMPERED');
    expect(tamperedBy(() => open(key, Buffer.concat([sealed, Buffer.of(0)]), context))).toBe('VAULT_TAMPERED');
  });
});
