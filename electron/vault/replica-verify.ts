/**
 * Ed25519 signatures of a pulled page checked ahead, on two worker threads, while the main
 * thread is free (node:crypto's verify is synchronous: ~150 µs a record, the largest cost of a
 * new desktop's first sync). What comes back is only a set of digests of (public key, signed
 * bytes, signature) triples that verified; replica-service.ts still works out every record's
 * key and bytes itself inside its write transaction and asks `holds`, verifying there any
 * triple the set lacks. A memo of a pure function: it can skip work, never a check.
 * Must never: count a triple as verified that node:crypto did not verify, or keep a worker
 * holding the process open.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { signatureValid } from './signing';

/** One signature to check: raw 32-byte Ed25519 public key, the bytes signed, the signature. */
export interface SignedTriple {
  readonly publicKey: Buffer;
  readonly bytes: Buffer;
  readonly signature: Buffer;
}

/** Below this many, checking in the main thread costs less than handing them over. */
const WORTH_A_WORKER = 64;
const WORKERS = 2;

/**
 * The worker: the same check as signing.ts signatureValid (a damaged key or signature does not
 * hold), over the triples packTriples packed; anything it cannot read does not hold.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
function holds(publicKey, bytes, signature) {
  try {
    const x = publicKey.toString('base64url');
    let key = keys.get(x);
    if (!key) { key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }); keys.set(x, key); }
    return verify(null, bytes, key, signature);
  } catch {
    return false;
  }
}
parentPort.on('message', ({ id, packed }) => {
  const input = Buffer.from(packed);
  const valid = [];
  try {
    const count = input.readUInt32LE(0);
    let at = 4;
    for (let i = 0; i < count; i++) {
      const a = input.readUInt32LE(at), b = input.readUInt32LE(at + 4), c = input.readUInt32LE(at + 8);
      at += 12;
      if (at + a + b + c > input.length) break;
      valid.push(holds(input.subarray(at, at + a), input.subarray(at + a, at + a + b), input.subarray(at + a + b, at + a + b + c)));
      at += a + b + c;
    }
  } catch {
    // Out of shape: what was read stands, the rest does not hold.
  }
  parentPort.postMessage({ id, valid });
});
`;

/**
 * The triples as one buffer of their own, handed to a worker (transferred, not copied): a count,
 * then each triple's three lengths (u32, little-endian) and bytes. A Buffer posted as it is takes
 * its whole backing memory along, and a small Buffer's is Node's shared pool: 64 KiB of whatever
 * else was made beside it (a key unwrapped, a plaintext), copied into the worker's heap.
 */
export function packTriples(triples: readonly SignedTriple[]): ArrayBuffer {
  let size = 4;
  for (const t of triples) size += 12 + t.publicKey.length + t.bytes.length + t.signature.length;
  const memory = new ArrayBuffer(size);
  const out = Buffer.from(memory);
  out.writeUInt32LE(triples.length, 0);
  let at = 4;
  for (const t of triples) {
    out.writeUInt32LE(t.publicKey.length, at);
    out.writeUInt32LE(t.bytes.length, at + 4);
    out.writeUInt32LE(t.signature.length, at + 8);
    at += 12;
    at += t.publicKey.copy(out, at);
    at += t.bytes.copy(out, at);
    at += t.signature.copy(out, at);
  }
  return memory;
}

/** What identifies a triple: lengths first, so no two triples share one digest's input. */
export function tripleDigest(t: SignedTriple): string {
  const lengths = Buffer.alloc(12);
  lengths.writeUInt32BE(t.publicKey.length, 0);
  lengths.writeUInt32BE(t.bytes.length, 4);
  lengths.writeUInt32BE(t.signature.length, 8);
  return createHash('sha256').update(lengths).update(t.publicKey).update(t.signature).update(t.bytes).digest('base64url');
}

/** Triples that verified ahead; `holds` verifies here whatever it was not told of. */
export class VerifiedSignatures {
  private readonly valid: ReadonlySet<string>;

  constructor(valid: ReadonlySet<string> = new Set()) {
    this.valid = valid;
  }

  holds(t: SignedTriple): boolean {
    return this.valid.has(tripleDigest(t)) || signatureValid(t.publicKey, t.bytes, t.signature);
  }
}

let pool: Worker[] | undefined;
let nextId = 0;
/**
 * Requests each worker is answering. Worker.ref()/unref() is a switch, not a count: a worker is
 * referenced while any request of it is out and unreferenced only when the last one is answered.
 * (Unreferenced at the first answer, a CLI sync waiting for a later page's checks, with no
 * connection left open, saw its process end there: exit 13, an unsettled top-level await.)
 */
const working = new Map<Worker, number>();

function workers(): Worker[] {
  if (!pool) {
    pool = Array.from({ length: WORKERS }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      return worker;
    });
  }
  return pool;
}

function onWorker(worker: Worker, triples: readonly SignedTriple[]): Promise<readonly boolean[]> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    // Held referenced only while it works: a CLI sync awaiting it must not see its process end.
    const settled = (): void => {
      worker.off('message', done);
      worker.off('error', failed);
      const left = (working.get(worker) ?? 1) - 1;
      if (left > 0) working.set(worker, left);
      else {
        working.delete(worker);
        worker.unref();
      }
    };
    const done = (message: { id: number; valid: boolean[] }): void => {
      if (message.id !== id) return;
      settled();
      resolve(message.valid);
    };
    const failed = (error: Error): void => {
      settled();
      pool = undefined;
      reject(error);
    };
    working.set(worker, (working.get(worker) ?? 0) + 1);
    worker.ref();
    worker.on('message', done);
    worker.once('error', failed);
    const packed = packTriples(triples);
    worker.postMessage({ id, packed }, [packed]);
  });
}

/**
 * Checks `triples` on the worker threads, split between them. A worker that fails leaves its
 * share unverified here (checked again in the transaction): slower, never weaker.
 */
export async function verifyAhead(triples: readonly SignedTriple[]): Promise<VerifiedSignatures> {
  if (triples.length < WORTH_A_WORKER) return new VerifiedSignatures();
  const all = workers();
  const share = Math.ceil(triples.length / all.length);
  const parts = all.map((worker, i) => ({ worker, part: triples.slice(i * share, (i + 1) * share) }));
  const results = await Promise.all(parts.map(async ({ worker, part }) => {
    try {
      return part.length === 0 ? [] : await onWorker(worker, part);
    } catch {
      return [];
    }
  }));
  const valid = new Set<string>();
  parts.forEach(({ part }, i) => part.forEach((t, j) => {
    if (results[i]?.[j] === true) valid.add(tripleDigest(t));
  }));
  return new VerifiedSignatures(valid);
}
