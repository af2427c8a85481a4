/**
 * Writing an export: the file is new or nothing. Refused if the name exists (checked before
 * anything is opened, and again atomically at the end), written whole to a 0600 file beside it
 * and then hard-linked into place, so a failure leaves no partial export behind. Shared by the
 * CLI's `export` and the app's "Export…". Its errors carry the system's reason (EACCES,
 * ENOSPC…) for the vault's audit row of an export that was not written.
 *
 * Must never put the bytes, or any part of them, in an error: they are the person's secrets.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { CrewvaultError, type ErrorCode } from '../../shared/errors';

/** A file not written, with the system's reason: a code only, never a message or the bytes. */
export class FileNotWritten extends CrewvaultError {
  readonly reason: string;

  constructor(code: ErrorCode, message: string, reason: string) {
    super(code, message);
    this.reason = reason;
  }
}

function exists(file: string): FileNotWritten {
  return new FileNotWritten('ALREADY_EXISTS', `${file} already exists: give a new file name (an export never overwrites).`, 'EEXIST');
}

/** ALREADY_EXISTS when something is at `file` already. */
export async function refuseExisting(file: string): Promise<void> {
  try {
    await lstat(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    // A name the file system refuses (too long, a file where a folder should be, no access):
    // refused now, before any secret is opened, not at the last step of the write.
    throw cannotWrite(file, error);
  }
  throw exists(file);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function cannotWrite(file: string, error: unknown): FileNotWritten {
  const code = errorCode(error);
  return new FileNotWritten('INVALID_INPUT', `Cannot write ${file}${code === undefined ? '' : ` (${code})`}; nothing was written.`, code ?? 'UNKNOWN');
}

/** A code that names a reason and cannot carry text (a secret) along with it. */
const REASON = /^[A-Z][A-Z0-9_]{0,39}$/;

/**
 * Why an export was not written, for its audit row: the system's code (EACCES, ENOSPC, EEXIST)
 * when a file could not be written, else Crewvault's error code (a .kdbx password refused).
 * Never the message, which names the file and could quote an input.
 */
export function notWrittenReason(error: unknown): string {
  const reason = error instanceof FileNotWritten ? error.reason : errorCode(error);
  return reason !== undefined && REASON.test(reason) ? reason : 'INTERNAL';
}

/** Errors from link() that mean "this file system has no hard links", not "the name is taken". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** Writes `bytes` to `target`, created 0600 with O_EXCL; removed again if the write fails. */
async function writeExclusive(target: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(target, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(target, { force: true });
    throw error;
  }
  await handle.close();
}

/**
 * The hidden file an export is written to first, beside `file` (link() works within one file
 * system only). Its name is short and fixed in length, not derived from `file`: a target name
 * near the 255-byte limit is legal, and a suffix added to it would not be.
 */
function partialBeside(file: string): string {
  return path.join(path.dirname(file), `.crewvault-export-${randomBytes(8).toString('hex')}.partial`);
}

/**
 * Hard-links the written `partial` to `file`; link() fails if the name exists, so nothing is
 * overwritten, even by a race. A file system without hard links gets an O_EXCL write of `bytes`.
 */
async function linkIntoPlace(partial: string, file: string, bytes: Uint8Array): Promise<void> {
  try {
    await link(partial, file);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') throw exists(file);
    if (code === undefined || !NO_HARD_LINKS.has(code)) throw cannotWrite(file, error);
    try {
      await writeExclusive(file, bytes);
    } catch (direct) {
      throw errorCode(direct) === 'EEXIST' ? exists(file) : cannotWrite(file, direct);
    }
  }
}

/**
 * The whole file appears at `file` or nothing does: written to a hidden 0600 file beside it,
 * then linked into place (linkIntoPlace), the hidden one removed whatever happens.
 * `beforeVisible` runs once the bytes are safely on disk, just before the name appears (the
 * vault's audit row of the export); if it throws, nothing is written and its error stands.
 * Before, not after: a file in place whose row then failed (the vault busy, the process
 * killed) would be an export the log never shows; the other way round, a link that fails
 * after the row (the name taken in that instant) leaves the row and a "not written" one
 * after it (exportEntries). The log may say more than happened, never less.
 */
export async function writeNewFile(file: string, bytes: Uint8Array, beforeVisible?: () => Promise<void>): Promise<void> {
  const partial = partialBeside(file);
  try {
    await writeExclusive(partial, bytes);
  } catch (error) {
    throw cannotWrite(file, error);
  }
  try {
    await beforeVisible?.();
    await linkIntoPlace(partial, file, bytes);
  } finally {
    await rm(partial, { force: true });
  }
}
