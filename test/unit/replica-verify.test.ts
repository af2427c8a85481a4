// Signatures checked ahead on worker threads (electron/vault/replica-verify.ts), with real
// Ed25519 keys from node:crypto: only what verified counts as verified; a changed byte, a
// signature moved to other bytes or another key's signature does not hold, ahead or after.
// Must never: pass a batch too small for the workers (then nothing would run on them).
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { newSigningKeyPair, signBytes } from '../../electron/vault/signing';
import { packTriples, signatureWorkers, tripleDigest, verifyAhead, VerifiedSignatures, type SignedTriple } from '../../electron/vault/replica-verify';

/** The digests the workers vouched for (the memo's own set). */
function ahead(v: VerifiedSignatures): ReadonlySet<string> {
  return (v as unknown as { valid: ReadonlySet<string> }).valid;
}

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
    const internal = ahead(verified);
    expect(internal.size).toBe(good.length);
    for (const t of bad) expect(internal.has(tripleDigest(t))).toBe(false);
    expect(new VerifiedSignatures().holds(first)).toBe(true);
  });

  it('hands the workers the triples\' bytes alone, not the memory they were cut from', async () => {
    const pair = newSigningKeyPair();
    // Small Buffers are slices of one shared block (Node's pool): here one made so, holding a stand-in for a key beside them.
    const block = Buffer.alloc(64 * 1024);
    const secret = Buffer.from('a key that must stay on the main thread', 'utf8');
    secret.copy(block, 0);
    let at = secret.length;
    const cut = (bytes: Buffer): Buffer => {
      const slice = block.subarray(at, at + bytes.length);
      bytes.copy(slice);
      at += bytes.length;
      return slice;
    };
    const triples: SignedTriple[] = Array.from({ length: 100 }, (_, i) => {
      const bytes = Buffer.from(`record ${i}`, 'utf8');
      return { publicKey: cut(pair.publicKey), bytes: cut(bytes), signature: cut(signBytes(pair.privateKey, bytes)) };
    });
    const lengths = triples.reduce((n, t) => n + 12 + t.publicKey.length + t.bytes.length + t.signature.length, 4);
    const packed = packTriples(triples);
    expect(packed.byteLength).toBe(lengths);
    expect(Buffer.from(packed).includes(secret)).toBe(false);
    // What the workers are really posted: an id and the packed triples, handed over (transferred), nothing of the block.
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    try {
      const verified = await verifyAhead(triples);
      for (const t of triples) expect(verified.holds(t)).toBe(true);
      expect(posted).toHaveBeenCalledTimes(2);
      for (const [message, transfer] of posted.mock.calls) {
        const { id, packed: handed } = message as { id: number; packed: ArrayBuffer };
        expect(Object.keys(message as object).sort()).toEqual(['id', 'packed']);
        expect(typeof id).toBe('number');
        expect(transfer).toEqual([handed]);
        expect(handed.byteLength).toBe(0); // detached here: moved, not copied
      }
      expect(ahead(verified).size).toBe(triples.length);
    } finally {
      posted.mockRestore();
    }
  });

  it('verifies here the share of a worker that ends or fails under a check, and makes a new one for the next', async () => {
    const pair = newSigningKeyPair();
    const triples: SignedTriple[] = Array.from({ length: 4000 }, (_, i) => {
      const bytes = Buffer.from(`record ${i}`, 'utf8');
      return { publicKey: pair.publicKey, bytes, signature: signBytes(pair.privateKey, bytes) };
    });
    const half = triples.length / 2;
    // The first worker holds the first half: ended (terminate) in the same turn as the check is asked, it answers none of it.
    for (const end of [(w: Worker) => w.terminate(), (w: Worker) => { w.emit('error', new Error('a worker failed')); return w.terminate(); }]) {
      const checking = verifyAhead(triples);
      const [gone] = signatureWorkers();
      if (!gone) throw new Error('no worker');
      await end(gone);
      const verified = await checking;
      expect(ahead(verified).size).toBe(half);
      expect(triples.slice(0, half).some((t) => ahead(verified).has(tripleDigest(t)))).toBe(false);
      expect(triples.slice(half).every((t) => ahead(verified).has(tripleDigest(t)))).toBe(true);
      // Every signature still holds (the ended worker's half verified here).
      for (const t of triples.slice(0, 20)) expect(verified.holds(t)).toBe(true);
      // The next check has two workers again, the ended one replaced.
      expect(signatureWorkers()).not.toContain(gone);
      expect(ahead(await verifyAhead(triples)).size).toBe(triples.length);
    }
  });

  it('vouches only for the bytes it was handed, not for what they became while it checked', async () => {
    const pair = newSigningKeyPair();
    const triples: SignedTriple[] = Array.from({ length: 200 }, (_, i) => {
      const bytes = Buffer.from(`record ${i}`, 'utf8');
      return { publicKey: pair.publicKey, bytes, signature: signBytes(pair.privateKey, bytes) };
    });
    const checking = verifyAhead(triples);
    const changed = triples[0];
    if (!changed) throw new Error('no triples');
    changed.bytes.write('X', 0, 'utf8');
    const verified = await checking;
    expect(verified.holds(changed)).toBe(false);
    expect(verified.holds(triples[1] ?? changed)).toBe(true);
  });

  it('tells triples apart by where their parts end', () => {
    const a = { publicKey: Buffer.from('ab'), bytes: Buffer.from('c'), signature: Buffer.from('d') };
    const b = { publicKey: Buffer.from('a'), bytes: Buffer.from('c'), signature: Buffer.from('bd') };
    expect(tripleDigest(a)).not.toBe(tripleDigest(b));
  });
});
