/**
 * A new replica's first sync from the server (docs/SYNC.md "Speed"): the vault's state as stored
 * now, each object's newest record once (the server keeps no older ones), audit events apart, in
 * pages. The first page fixes where the snapshot ends (the vault's sequence then); every later
 * page reads only up to it, so a record written during the snapshot (stored above it, and moved
 * there if it was below) comes in the desktop's next pull from that sequence instead: nothing is
 * lost between the two. Filtered exactly as a pull is (membership.ts pullFilter), and a v3 event of
 * a group the person does not hold handed redacted as a pull hands it (events-v3.ts). Stored bodies
 * are handed on as stored, not parsed again: each was checked with the contract's schema when
 * pushed, and the receiving desktop parses every reply before believing it. They stay bytes from
 * the database to the socket (db.ts queryBytes, json-text.ts), never decoded and encoded again.
 * Must never: hand a record to someone a pull would not, or one of another vault.
 */
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { requireVaultInReach, type Caller } from '../auth/automation-tokens';
import type { ServerContext } from '../context';
import { readConsistently, type DatabaseTransaction } from '../store/db';
import { JsonText } from '../json-text';
import { batchesOf } from '../store/batches';
import { snapshotAfter, snapshotEventCount, vaultInfo } from '../store/sync';
import { noSuchVaultFor, pullFilter, pullingPerson } from './membership';
import { redactedEvent, wholeEventsFor } from './events-v3';
import { requireWithinHead } from './history-marks';
import { eventRecordSchema } from '../../shared/sync/records';

/** Records a snapshot page holds when the desktop names no limit, and about how many bytes (at least one record). */
const DEFAULT_PAGE = 5_000;
const PAGE_BYTES = 8 * 1024 * 1024;

export async function snapshot(ctx: ServerContext, auth: Caller, input: ServerRouteInput<'syncSnapshot'>): Promise<JsonText<ServerRouteOutput<'syncSnapshot'>>> {
  requireVaultInReach(auth, input.vault);
  // The page, who may see it and where the vault stands, read as one view (db.ts readConsistently), as a pull is.
  return readConsistently(ctx.db, (db) => pageIn(db, auth, input));
}

async function pageIn(db: DatabaseTransaction, auth: Caller, input: ServerRouteInput<'syncSnapshot'>): Promise<JsonText<ServerRouteOutput<'syncSnapshot'>>> {
  const vault = await vaultInfo(db, input.vault);
  if (vault === undefined) throw noSuchVaultFor(auth.user.role);
  // Only a person of the vault takes its snapshot, and only what their pull would hand them.
  const me = await pullingPerson(db, input.vault, vault.createdBy, auth.user.id);
  const visible = await pullFilter(db, input.vault, me, input.kinds);
  const whole = await wholeEventsFor(db, input.vault, me);
  const upTo = input.upTo ?? vault.seq;
  // Past the head: this server's history is not the one the desktop pulled from (history-marks.ts), never a malformed request.
  requireWithinHead(upTo, vault.seq);
  if (input.after > upTo) throw new CrewvaultError('INVALID_INPUT', 'after: past the snapshot\'s end.');
  const rows = await snapshotAfter(db, input.vault, input.after, upTo, input.part === 'events', input.limit ?? DEFAULT_PAGE, PAGE_BYTES);
  // The objects part (review 12a hole 3): the state's pages, handing only the kinds named; read once by a desktop from before them.
  const only = input.part === 'objects' ? new Set<string>(input.kinds ?? []) : undefined;
  const handed = rows.filter((row) => visible(row) && (only === undefined || only.has(row.kind)));
  // Up to the last record read, handed over or not: what was left out is not this person's.
  const after = rows.at(-1)?.seq ?? upTo;
  // A v3 event of a group this person does not hold goes redacted (events-v3.ts): parsed, its body dropped, written again.
  const bodyOf = (row: (typeof handed)[number]): string | Buffer => {
    if (row.kind !== 'event' || row.scope === null || row.bodyDigest === null) return row.body;
    const record = eventRecordSchema.parse(JSON.parse(row.body.toString('utf8')));
    return whole(record.id, row.scope) ? row.body : JSON.stringify(redactedEvent(record, row.bodyDigest));
  };
  // Each record's bytes as stored, between the few characters of its place in the reply (json-text.ts writes them once).
  const records = handed.flatMap((row, i) => [`${i === 0 ? '' : ','}{"seq":${row.seq},"record":`, bodyOf(row), '}']);
  // The signed batches the handed records name (format 2), as stored: only those of records handed.
  const batches = [...(await batchesOf(db, input.vault, [...new Set(handed.flatMap((row) => (row.batch === null ? [] : [row.batch])))])).values()];
  const batchesPart = batches.length > 0 ? `,"batches":[${batches.join(',')}]` : '';
  // A history's "n of m" (docs/SYNC.md "Speed" step 8): counted only when asked, once a run.
  const count = input.count === true && input.part === 'events' ? await snapshotEventCount(db, input.vault, input.after, upTo) : undefined;
  const countPart = count === undefined ? '' : `,"eventCount":{"total":${count.total},"taken":${count.taken}}`;
  return new JsonText(['{"records":[', ...records, `],"after":${after},"upTo":${upTo},"more":${after < upTo}${batchesPart}${countPart}}`]);
}
