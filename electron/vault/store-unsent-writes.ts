/**
 * Whether this desktop wrote to an entry since it last handed its changes on: its own audit rows
 * naming the entry after the sent sequence, for the actions that can change what an entry says.
 * Read by replica-given-way.ts (two rotations at once). SQL only; never writes.
 */
import type { ReadDb } from './db';

/**
 * Actions of this desktop's own log that may change an entry's sealed content: edits, moves,
 * deletes, and an HOTP code (the counter steps: `otp.hotp` since review round nine; older logs
 * wrote it as `otp.code` / `otp.copy`). A TOTP code names the entry without changing it: those
 * older names are still counted, which only makes a sync keep a copy it did not need.
 */
export const ENTRY_WRITE_ACTIONS: readonly string[] = ['entry.edit', 'entry.remove_otp', 'entry.move', 'entry.delete', 'otp.hotp', 'otp.code', 'otp.copy'];

/** The HOTP code actions among them: a counter stepped, nothing else the entry says changed. */
export const ENTRY_CODE_ACTIONS: readonly string[] = ['otp.hotp', 'otp.code', 'otp.copy'];

/**
 * Actions that change what an entry says (not a code's counter step, not a key rotation's
 * re-seal, which writes no event of the entry): a merge keeps a copy only beside these. Its
 * making, and this desktop's version written over the server's (`entry.refused_overwritten`),
 * count too: both say something the other side's version may not.
 */
export const ENTRY_CONTENT_ACTIONS: readonly string[] = ['entry.create', 'entry.edit', 'entry.remove_otp', 'entry.move', 'entry.delete', 'entry.refused_overwritten'];

/** Rows of this desktop (no device: written here; or this device's) naming `entryId` after `sinceSeq`, of `actions`. */
export function hasUnsentEntryWrite(db: ReadDb, entryId: number, sinceSeq: number, device: Buffer | undefined, actions: readonly string[] = ENTRY_WRITE_ACTIONS): boolean {
  const marks = actions.map(() => '?').join(', ');
  const row = db.prepare<unknown[], { one: number }>(`SELECT 1 AS one FROM audit_log WHERE entry_id = ? AND seq > ? AND (device_id IS NULL OR device_id = ?) AND action IN (${marks}) LIMIT 1`)
    .get(entryId, sinceSeq, device ?? Buffer.alloc(0), ...actions);
  return row !== undefined;
}
