/**
 * Rotating the server's code key (`crewvault server code-key rotate | delete-old`, #15): a new
 * X25519 key becomes the one desktops seal to (GET /v1/codes/key hands it out), the one it
 * replaces stays, retiring, and still opens the seals made to it, so codes keep coming while the
 * desktops of key holders seal their groups' OTP keys again at their next sync (they see the
 * published key change). A retiring key is deleted only once no stored seal names it, or when
 * forced: then the seals made to it are deleted too (their groups' codes stop until a key
 * holder's desktop seals them again) and the groups are named.
 *
 * Both run in one database transaction holding ROTATION_LOCK, so two rotations (two processes,
 * or two administrators) go one after the other and each reads the key file afresh; the seals
 * counted and the file rewritten agree because seals are written only to the current key.
 * Audited in the server's signed audit, by fingerprint.
 * Must never: print or return a private key, or delete a key a stored seal still needs unless forced.
 */
import { CrewvaultError } from '../../shared/errors';
import { appendAuditBatch } from '../audit';
import type { ServerContext } from '../context';
import { deleteSealsUnderKeys, nameUnnamedSeals, sealsUnderKeys } from '../store/codes';
import type { Transaction } from '../store/db';
import { newCodeKey } from './key-ring';

/** pg_advisory_xact_lock's key for code key rotation: any constant no other lock uses. */
const ROTATION_LOCK = 0x636b6579;

async function locked<T>(ctx: ServerContext, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return ctx.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK]);
    return work(tx);
  });
}

export interface RotationOutcome {
  /** The new key's fingerprint: what an owner compares with GET /v1/codes/key's and a desktop's. */
  readonly current: string;
  /** Every key kept for the seals made to it, this one's predecessor first. */
  readonly retiring: readonly string[];
}

export async function rotateCodeKey(ctx: ServerContext): Promise<RotationOutcome> {
  const ring = ctx.keys.codeKeys;
  return locked(ctx, async (tx) => {
    const held = ring.reload();
    // Seals from before schema 19 were made to the only key there was: the one now retired.
    await nameUnnamedSeals(tx, held.current.id);
    const next = newCodeKey();
    const retiring = [held.current, ...held.retiring];
    await appendAuditBatch(tx, ctx, [{ kind: 'codes.code-key-rotated', source: 'console', detail: { current: next.id, retiring: retiring.map((k) => k.id).join(', ') } }]);
    // The file last: the transaction commits after it, and a failed write rolls the audit back.
    ring.replace({ current: next, retiring });
    return { current: next.id, retiring: retiring.map((k) => k.id) };
  });
}

export interface StillSealed {
  readonly codeKey: string;
  readonly vault: string;
  readonly group: string;
  readonly seals: number;
}

export interface DeleteOutcome {
  /** Retiring keys deleted. */
  readonly deleted: readonly string[];
  /** Retiring keys kept: seals still made to them (unforced), by vault and group. */
  readonly kept: readonly StillSealed[];
  /** Forced: the seals deleted with their keys, by vault and group (those codes stop until sealed again). */
  readonly dropped: readonly StillSealed[];
}

/** Deletes every retiring key no stored seal needs (with `force`, every retiring key, and the seals made to them). */
export async function deleteRetiringCodeKeys(ctx: ServerContext, force: boolean): Promise<DeleteOutcome> {
  const ring = ctx.keys.codeKeys;
  return locked(ctx, async (tx) => {
    const held = ring.reload();
    if (held.retiring.length === 0) return { deleted: [], kept: [], dropped: [] };
    const still = await sealsUnderKeys(tx, held.retiring.map((k) => k.id));
    const needed = new Set(still.map((s) => s.codeKey));
    const goes = force ? held.retiring : held.retiring.filter((k) => !needed.has(k.id));
    const dropped = force ? still : [];
    if (force) await deleteSealsUnderKeys(tx, held.retiring.map((k) => k.id));
    if (goes.length > 0) {
      await appendAuditBatch(tx, ctx, [{
        kind: 'codes.code-key-deleted', source: 'console',
        detail: { deleted: goes.map((k) => k.id).join(', '), forced: force, seals: dropped.reduce((n, s) => n + s.seals, 0) },
      }]);
      ring.replace({ current: held.current, retiring: held.retiring.filter((k) => !goes.includes(k)) });
    }
    return { deleted: goes.map((k) => k.id), kept: force ? [] : still, dropped };
  });
}

/** For `crewvault server code-key show`: the keys held, and what each retiring one still opens. */
export async function codeKeyStanding(ctx: ServerContext): Promise<{ readonly current: string; readonly retiring: readonly string[]; readonly stillSealed: readonly StillSealed[] }> {
  const ring = ctx.keys.codeKeys;
  const held = ring.reload();
  if (held.retiring.length === 0) return { current: held.current.id, retiring: [], stillSealed: [] };
  const stillSealed = await sealsUnderKeys(ctx.db, held.retiring.map((k) => k.id));
  return { current: held.current.id, retiring: held.retiring.map((k) => k.id), stillSealed };
}

/** One line per vault and group, for the console (ids only: the server knows no group's name). */
export function describeStillSealed(rows: readonly StillSealed[]): string {
  if (rows.length === 0) throw new CrewvaultError('INTERNAL', 'nothing to describe');
  return rows.map((r) => `  vault ${r.vault}, group ${r.group}: ${r.seals} key${r.seals === 1 ? '' : 's'} sealed to ${r.codeKey}\n`).join('');
}
