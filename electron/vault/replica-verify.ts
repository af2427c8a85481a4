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
 * its whole backing memory along, and a small Buffer's is Node's shared pool: 8–64 KiB of whatever
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

/**
 * A worker of the pool and the requests it is answering, each by its id. Referenced while any is
 * out, unreferenced when the last is answered: Worker.ref()/unref() is a switch, not a count
 * (unreferenced at its first answer, a CLI sync waiting for a later page's checks with no
 * connection left open saw its process end there: exit 13, an unsettled top-level await). A
 * worker that fails or exits fails what it held (checked in the transaction instead) and is
 * replaced alone at the next use.
 */
interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { readonly resolve: (valid: readonly boolean[]) => void; readonly reject: (error: Error) => void }>;
  gone: boolean;
}

const pool: Array<Slot | undefined> = [];
let nextId = 0;

function newSlot(): Slot {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  const slot: Slot = { worker, pending: new Map(), gone: false };
  const fail = (error: Error): void => {
    slot.gone = true;
    const held = [...slot.pending.values()];
    slot.pending.clear();
    worker.unref();
    for (const request of held) request.reject(error);
  };
  worker.on('message', (message: { id: number; valid: boolean[] }) => {
    const request = slot.pending.get(message.id);
    if (request === undefined) return;
    slot.pending.delete(message.id);
    if (slot.pending.size === 0) worker.unref();
    request.resolve(message.valid);
  });
  worker.on('error', fail);
  // An answer that cannot be read: the worker is not trusted with more (its checks are done in the transaction).
  worker.on('messageerror', (error) => {
    fail(error);
    void worker.terminate();
  });
  worker.on('exit', () => fail(new Error('A signature worker ended.')));
  // After the listeners: the first 'message' listener references the worker's port again.
  worker.unref();
  return slot;
}

/** The pool, a worker made for each place empty or gone. Exported for the tests (a worker ended under a check). */
export function signatureWorkers(): readonly Worker[] {
  return workers().map((slot) => slot.worker);
}

/** The workers to be had: each place empty or gone filled in place; one that cannot be made now is left empty (tried again next use), none lost. */
function workers(): Slot[] {
  for (let i = 0; i < WORKERS; i++) {
    const slot = pool[i];
    if (slot !== undefined && !slot.gone) continue;
    try {
      pool[i] = newSlot();
    } catch {
      pool[i] = undefined;
    }
  }
  return pool.filter((slot): slot is Slot => slot !== undefined && !slot.gone);
}

/** One request to one worker, its triples packed first (a throw there is the caller's, with nothing referenced). */
function onWorker(slot: Slot, triples: readonly SignedTriple[]): Promise<readonly boolean[]> {
  const packed = packTriples(triples);
  return new Promise((resolve, reject) => {
    if (slot.gone) {
      reject(new Error('A signature worker ended.'));
      return;
    }
    const id = nextId++;
    slot.pending.set(id, { resolve, reject });
    slot.worker.ref();
    try {
      slot.worker.postMessage({ id, packed }, [packed]);
    } catch (error) {
      slot.pending.delete(id);
      if (slot.pending.size === 0) slot.worker.unref();
      reject(error instanceof Error ? error : new Error('A signature check could not be handed over.'));
    }
  });
}

/**
 * Checks `triples` on the worker threads, split between them. A worker that fails leaves its
 * share unverified here (checked again in the transaction): slower, never weaker.
 */
export async function verifyAhead(triples: readonly SignedTriple[]): Promise<VerifiedSignatures> {
  if (triples.length < WORTH_A_WORKER) return new VerifiedSignatures();
  const all = workers();
  // No worker to be had: every signature is verified in the transaction.
  if (all.length === 0) return new VerifiedSignatures();
  const share = Math.ceil(triples.length / all.length);
  // Each triple's digest taken now, with the bytes handed over: what the workers answer for is what was packed.
  const parts = all.map((worker, i) => {
    const part = triples.slice(i * share, (i + 1) * share);
    return { worker, part, digests: part.map(tripleDigest) };
  });
  const results = await Promise.all(parts.map(async ({ worker, part }) => {
    try {
      return part.length === 0 ? [] : await onWorker(worker, part);
    } catch {
      return [];
    }
  }));
  const valid = new Set<string>();
  parts.forEach(({ digests }, i) => digests.forEach((digest, j) => {
    if (results[i]?.[j] === true) valid.add(digest);
  }));
  return new VerifiedSignatures(valid);
}
