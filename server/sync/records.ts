/**
 * A team vault's records on the server (docs/SYNC.md): what desktops push is checked against
 * what the server holds and stored in one transaction, each record at the vault's next
 * sequence number; desktops pull what was stored after the sequence they hold.
 *
 * What the server checks: the pusher is signed in with the second step done (app.ts); a vault
 * it does not hold yet is started by an owner; each entry's and customer's base is the
 * revision the server holds (else nothing is stored and the conflicts are named: the desktop
 * pulls, takes them in, and pushes again); an event or a signing key is stored once. What it
 * cannot check, and leaves to the receiving desktops: the senders' signatures and what each
 * record does (it holds no key, and does not yet know groups and members, #15).
 * Must never: store part of a push, or hand a record of one vault to a pull of another.
 */
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { replicaRecordSchema, type ReplicaRecord } from '../../shared/sync/records';
import type { Authenticated } from '../auth/sessions';
import type { ServerContext } from '../context';
import { createVault, lockVault, putRecord, recordsAfter, revisionsOf, setVaultSeq, vaultExists } from '../store/sync';
import { appendAudit } from '../audit';
import { notifyStored } from './stream';

/** How many records a pull returns when the desktop names no limit. */
const DEFAULT_PULL = 5_000;

function revisionOf(record: ReplicaRecord): number {
  return record.kind === 'customer' || record.kind === 'entry' ? record.revision : 1;
}

export async function push(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'syncPush'>, source: string): Promise<ServerRouteOutput<'syncPush'>> {
  const { batch } = input;
  if (!/^[0-9a-f]{32}$/.test(batch.vault)) throw new CrewvaultError('INVALID_INPUT', 'batch.vault: not a vault id');
  return ctx.db.transaction(async (tx) => {
    let vault = await lockVault(tx, batch.vault);
    if (vault === undefined) {
      // Moving a vault onto the server is an owner's act, and recorded.
      if (auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only an owner moves a vault onto this server.');
      await createVault(tx, batch.vault, auth.user.id, ctx.now());
      await appendAudit(tx, ctx, { kind: 'sync.vault-created', actorId: auth.user.id, source, detail: { vault: batch.vault } });
      vault = { seq: 0 };
    }
    const held = await revisionsOf(tx, batch.vault, batch.records.map((r) => r.id));
    const conflicts: Array<{ id: string; revision: number }> = [];
    const fresh: ReplicaRecord[] = [];
    for (const record of batch.records) {
      const current = held.get(record.id);
      if (record.kind === 'customer' || record.kind === 'entry') {
        if ((current ?? 0) !== record.base || record.revision <= record.base) conflicts.push({ id: record.id, revision: current ?? 0 });
        else fresh.push(record);
      } else if (current === undefined) {
        fresh.push(record); // keys and events: stored once, and never replaced
      }
    }
    if (conflicts.length > 0) return { accepted: 0, seq: vault.seq, conflicts };
    let seq = vault.seq;
    for (const record of fresh) {
      seq++;
      await putRecord(tx, batch.vault, { id: record.id, kind: record.kind, revision: revisionOf(record), seq, body: JSON.stringify(record) }, auth.user.id);
    }
    await setVaultSeq(tx, batch.vault, seq);
    // Delivered on commit, to every server process on this database: their streams tell desktops.
    if (fresh.length > 0) await notifyStored(tx, batch.vault, seq);
    return { accepted: fresh.length, seq, conflicts: [] };
  });
}

export async function pull(ctx: ServerContext, _auth: Authenticated, input: ServerRouteInput<'syncPull'>): Promise<ServerRouteOutput<'syncPull'>> {
  if (!(await vaultExists(ctx.db, input.vault))) throw new CrewvaultError('NOT_FOUND', 'This server holds no such vault: an owner moves it here first.');
  const limit = input.limit ?? DEFAULT_PULL;
  const rows = await recordsAfter(ctx.db, input.vault, input.since, limit + 1);
  const page = rows.slice(0, limit);
  // Stored as they were checked when pushed; parsed again on the way out, as the contract says.
  const records = page.map((row) => ({ seq: row.seq, record: replicaRecordSchema.parse(JSON.parse(row.body)) }));
  return { records, upTo: page.at(-1)?.seq ?? input.since, more: rows.length > limit };
}
