/**
 * A snapshot page read record by record (docs/SYNC.md "Speed", "Records a replica will not take"):
 * the server hands stored bodies on as stored (server/sync/snapshot.ts), so a record it stored
 * before a rule of the contract existed (a role spelt otherwise, a policy naming a role twice:
 * review round twelve (a)) would fail the whole page's parse, and with it every first sync of the
 * vault. Each record is parsed apart: a record out of the contract's shape is
 * returned as `unfit` with the reason, to be set aside in the file (replica_held) as a pull sets
 * aside what it refuses, and the rest of the page is taken. The page's own fields (its sequence,
 * end, batches) are held to the contract as ever: out of shape, the page is refused whole.
 * Must never: take a record in unparsed, drop an unfit one without a reason, or keep more of its
 * body than the record itself.
 */
import { z } from 'zod';
import { parseServerReply, SERVER_ROUTES, type ServerRouteInput, type ServerRouteOutput } from '../../shared/api/server-contract';
import type { ErrorCode } from '../../shared/errors';
import { readEntryRecord } from '../../shared/sync/entry-record-fast';
import { replicaRecordSchema } from '../../shared/sync/records';
import type { TeamClient } from './client';

/** A record of a page that does not fit this desktop's contract: where it stood, its id when it names one, its body, and why. */
export interface UnfitRecord {
  readonly seq: number;
  readonly id: string;
  readonly body: string;
  readonly reason: string;
}

export interface SnapshotPage {
  readonly page: ServerRouteOutput<'syncSnapshot'>;
  readonly unfit: readonly UnfitRecord[];
}

/** The page's own fields as the contract has them; its records only as a sequence and a body, judged one at a time below. */
const looseReply = z.strictObject({
  ok: z.literal(true),
  value: SERVER_ROUTES.syncSnapshot.output.extend({
    records: z.array(z.strictObject({ seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), record: z.unknown() })),
  }),
});

/** The id an unfit body names (a global id, as records are named), else one made of its sequence, so it is kept apart from any other. */
function unfitId(seq: number, record: unknown): string {
  const id = typeof record === 'object' && record !== null && 'id' in record ? record.id : undefined;
  return typeof id === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) ? id : `unfit-at-${seq}`;
}

/** Why a record does not fit: the first issue's path and message (field names of the contract: nothing of the record's content). */
function unfitReason(seq: number, error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : ` (${issue.path.map(String).join('.')})`;
  return `The server's record at sequence ${seq} does not fit this desktop's record schema${where}: stored there before a rule of it, or by another version. Set aside; the rest was taken in.`;
}

/**
 * Reads a reply to `syncSnapshot`: the page's own fields by the contract, then each record by its
 * schema (an entry first by entry-record-fast.ts, which answers as the schema would or leaves it
 * to the schema), a record out of shape set aside (see the header). Throws on anything else out
 * of shape.
 */
export function readSnapshotReply(body: unknown): { readonly ok: true; readonly value: SnapshotPage } | { readonly ok: false; readonly error: { readonly code: ErrorCode; readonly message: string } } {
  const loose = looseReply.safeParse(body);
  if (!loose.success) {
    // An error reply, or a page whose own fields are out of shape: the whole reply's parse answers, or throws saying why.
    const reply = parseServerReply('syncSnapshot', body);
    return reply.ok ? { ok: true, value: { page: reply.value, unfit: [] } } : reply;
  }
  const records: Array<ServerRouteOutput<'syncSnapshot'>['records'][number]> = [];
  const unfit: UnfitRecord[] = [];
  for (const { seq, record } of loose.data.value.records) {
    // A large vault's snapshot is nearly all entries: read by hand, ~6 µs a record less than the schema (docs/SYNC.md "Speed").
    const entry = readEntryRecord(record);
    if (entry !== undefined) {
      records.push({ seq, record: entry });
      continue;
    }
    const parsed = replicaRecordSchema.safeParse(record);
    if (parsed.success) records.push({ seq, record: parsed.data });
    else unfit.push({ seq, id: unfitId(seq, record), body: JSON.stringify(record), reason: unfitReason(seq, parsed.error) });
  }
  return { ok: true, value: { page: { ...loose.data.value, records }, unfit } };
}

/** One snapshot page from `client`, read as readSnapshotReply reads it; `sent` as transport.ts `send`'s. */
export function snapshotPage(client: TeamClient, input: ServerRouteInput<'syncSnapshot'>, sent?: () => void): Promise<SnapshotPage> {
  return client.callParsed('syncSnapshot', input, readSnapshotReply, sent);
}
