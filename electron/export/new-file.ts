/**
 * Writing an export: the file is new or nothing. Refused if the name exists (checked before
 * anything is opened, and again atomically at the end), written whole to a 0600 file beside it
 * and then hard-linked into place, so a failure leaves no partial export behind. Shared by the
 * CLI's `export` and the app's "Export…".
 *
 * Must never put the bytes, or any part of them, in an error: they are the person's secrets.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { CrewvaultError } from '../../shared/errors';

function exists(file: string): CrewvaultError {
  return new CrewvaultError('ALREADY_EXISTS', `${file} already exists: give a new file name (an export never overwrites).`);
}

/** ALREADY_EXISTS when something is at `file` already. */
export async function refuseExisting(file: string): Promise<void> {
  try {
    await lstat(file);
  } catch {
    return; // Not there (or not reachable: the write at the end says why).
  }
  throw exists(file);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function cannotWrite(file: string, error: unknown): CrewvaultError {
  const code = errorCode(error);
  return new CrewvaultError('INVALID_INPUT', `Cannot write ${file}${code === undefined ? '' : ` (${code})`}; nothing was written.`);
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
 * The whole file appears at `file` or nothing does: written to a hidden 0600 file beside it,
 * then hard-linked to the name (link() fails if the name exists, so nothing is overwritten,
 * even by a race). A file system without hard links gets an O_EXCL write, removed on failure.
 */
export async function writeNewFile(file: string, bytes: Uint8Array): Promise<void> {
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await writeExclusive(partial, bytes);
  } catch (error) {
    throw cannotWrite(file, error);
  }
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
  } finally {
    await rm(partial, { force: true });
  }
}
