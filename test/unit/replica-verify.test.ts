// Signatures checked ahead on worker threads (electron/vault/replica-verify.ts), with real
// Ed25519 keys from node:crypto: only what verified counts as verified; a changed byte, a
// signature moved to other bytes or another key's signature does not hold, ahead or after.
// Must never: pass a batch too small for the workers (then nothing would run on them).
import { describe, expect, it } from 'vitest';
import { newSigningKeyPair, signBytes } from '../../electron/vault/signing';
import { packTriples, tripleDigest, verifyAhead, VerifiedSignatures, type SignedTriple } from '../../electron/vault/replica-verify';

describe('signatures checked ahead on worker threads', () => {
  it('counts exactly the triples that verify, and still refuses the rest when asked', async () => {
    const alice = newSigningKeyPair();
    const mallory = newSigningKeyPair();
    const good: SignedTriple[] = Array.from({ length: 200 }, (_, i) => {
      const bytes = Buffer.from(`record ${i}`, 'utf8');
      return { publicKey: alice.publicKey, bytes, signature: signBytes(alice.privateKey, bytes) };
    });
    const first = good[0];
    const second = good[1];
    if (!first || !second) throw new Error('no triples');
    const changedByte = { ...first, bytes: Buffer.from('record 0!', 'utf8') };
    const otherBytes = { ...first, signature: second.signature };
    const otherKey = { ...first, signature: signBytes(mallory.privateKey, first.bytes) };
    const damagedKey = { ...first, publicKey: Buffer.alloc(7) };
    const bad = [changedByte, otherBytes, otherKey, damagedKey];
    const verified = await verifyAhead([...good, ...bad]);
    for (const t of good) expect(verified.holds(t)).toBe(true);
    for (const t of bad) expect(verified.holds(t)).toBe(false);
    // The good ones were verified on the workers: an empty memo must verify them itself (and agree).
    const internal = (verified as unknown as { valid: ReadonlySet<string> }).valid;
    expect(internal.size).toBe(good.length);
    for (const t of bad) expect(internal.has(tripleDigest(t))).toBe(false);
    expect(new VerifiedSignatures().holds(first)).toBe(true);
  });

  it('hands the workers the triples\' bytes alone, not the memory they were cut from', () => {
    const pair = newSigningKeyPair();
    // Small Buffers are slices of Node's shared pool: here beside a stand-in for a key made at the same time.
    const secret = Buffer.from('a key that must stay on the main thread', 'utf8');
    const triples: SignedTriple[] = Array.from({ length: 3 }, (_, i) => {
      const bytes = Buffer.from(`record ${i}`, 'utf8');
      return { publicKey: Buffer.from(pair.publicKey), bytes, signature: Buffer.from(signBytes(pair.privateKey, bytes)) };
    });
    expect(triples[0]?.bytes.buffer).toBe(secret.buffer);
    const packed = packTriples(triples);
    const lengths = triples.reduce((n, t) => n + 12 + t.publicKey.length + t.bytes.length + t.signature.length, 4);
    expect(packed.byteLength).toBe(lengths);
    expect(Buffer.from(packed).includes(secret)).toBe(false);
    const view = Buffer.from(packed);
    expect(view.readUInt32LE(0)).toBe(3);
    expect(view.subarray(16, 16 + 32).equals(pair.publicKey)).toBe(true);
  });

  it('tells triples apart by where their parts end', () => {
    const a = { publicKey: Buffer.from('ab'), bytes: Buffer.from('c'), signature: Buffer.from('d') };
    const b = { publicKey: Buffer.from('a'), bytes: Buffer.from('c'), signature: Buffer.from('bd') };
    expect(tripleDigest(a)).not.toBe(tripleDigest(b));
  });
});
