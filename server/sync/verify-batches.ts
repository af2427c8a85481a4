/**
 * The team server's check of record format 2 on push (#15, shared/sync/record-batches.ts): a
 * customer or entry record that names a batch instead of carrying a signature holds when the push
 * carries that batch, the batch's author and key are the record's, the digest at the record's
 * index is SHA-256 of the record's signing text, and the batch's signature holds under a key in
 * force of its author (verified once a push, by verify.ts's rule). A batch id the server holds
 * already must come with the same digests and signature (stored once, never changed).
 * Must never: vouch for a record by a batch the push does not carry, or by a digest at another index.
 */
import { createHash } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import type { RecordBatch } from '../../shared/sync/record-batches';
import { recordSigningText, type CustomerRecord, type EntryRecord } from '../../shared/sync/records';

/** SHA-256 of a record's signing text, base64url: what a batch lists. */
export function recordDigest(signingText: string): string {
  return createHash('sha256').update(signingText, 'utf8').digest('base64url');
}

/** A batch as the server stores it: its fields in the schema's order, as JSON. */
export function batchBody(batch: RecordBatch): string {
  return JSON.stringify({ id: batch.id, author: batch.author, signerKey: batch.signerKey, digests: batch.digests, signature: batch.signature });
}

function badBatch(what: string): CrewvaultError {
  return new CrewvaultError('BAD_SIGNATURE', `${what}: nothing was stored.`);
}

/** A push's batches by id: each once, and one the server holds already exactly as held. */
export function pushedBatches(batches: readonly RecordBatch[] | undefined, stored: ReadonlyMap<string, string>): Map<string, RecordBatch> {
  const byId = new Map<string, RecordBatch>();
  for (const batch of batches ?? []) {
    if (byId.has(batch.id)) throw new CrewvaultError('INVALID_INPUT', 'A push names a batch twice.');
    const held = stored.get(batch.id);
    if (held !== undefined && held !== batchBody(batch)) throw badBatch('A batch id this server holds comes with other digests or another signature');
    byId.set(batch.id, batch);
  }
  return byId;
}

/**
 * Checks a batched record against its batch; `batchHolds` checks (once) the batch's signature
 * under a key in force of its author. Throws a refusal.
 */
export function checkBatched(
  vault: string, record: CustomerRecord | EntryRecord, batches: ReadonlyMap<string, RecordBatch>, batchHolds: (batch: RecordBatch) => boolean,
): void {
  const batch = record.batch === undefined ? undefined : batches.get(record.batch);
  if (batch === undefined || record.index === undefined) throw badBatch(`A ${record.kind} record names a batch this push does not carry`);
  if (batch.author !== record.author || batch.signerKey !== record.signerKey) throw badBatch(`A ${record.kind} record names a batch of another author or key`);
  // The signing text names the fields signed, never the signature, batch or index.
  if (batch.digests[record.index] !== recordDigest(recordSigningText(vault, record))) throw badBatch(`A ${record.kind} record is not the one its batch lists at its index`);
  if (!batchHolds(batch)) throw badBatch(`A ${record.kind} record's batch does not hold under its author's signature`);
}
