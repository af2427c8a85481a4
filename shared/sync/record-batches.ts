/**
 * Record format 2 (#15, docs/SYNC.md "Speed"): a push's customer and entry records vouched for
 * by one signature over the list of their digests instead of one each. A batch is
 * `{id, author, signerKey, digests, signature}`; its signature is over `batchSigningText` (the
 * vault, the batch's id, author and key, and every digest in order), and each digest is SHA-256
 * of a record's signing text (records.ts recordSigningText, which names its vault, kind, id,
 * revision, base, author and key). A record names its batch and its index in it instead of
 * carrying a signature. A receiver checks the batch's signature once under a key in force of its
 * author, then each record by the digest at its index, with the batch's author and key equal to
 * the record's. Events stay signed one by one (each device's chain links their signatures).
 * Must never: vouch for a record whose digest is not at its index, or a batch of another vault.
 */
import { z } from 'zod';

/** The most digests one batch lists (a desktop signs a batch per 1,000 records: a push part carries the batches it names). */
export const MAX_BATCH_DIGESTS = 4_096;
/** How many records a desktop puts in one batch: a push part or pull page carries each batch its records name, whole. */
export const RECORDS_PER_BATCH = 1_000;

const uid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'not a global id');
/** SHA-256 as base64url without padding. */
const digest = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a SHA-256 digest');

export const recordBatchSchema = z.strictObject({
  id: uid,
  author: uid,
  signerKey: uid,
  digests: z.array(digest).min(1).max(MAX_BATCH_DIGESTS),
  signature: z.string().max(256).regex(/^[A-Za-z0-9_-]*$/, 'not base64url'),
});
export type RecordBatch = z.infer<typeof recordBatchSchema>;

/** What a batch's author signs: its vault, id, author, key and every digest in order. */
export function batchSigningText(vault: string, batch: Omit<RecordBatch, 'signature'>): string {
  return JSON.stringify(['crewvault/v2 replica batch', vault, batch.id, batch.author, batch.signerKey, ...batch.digests]);
}
