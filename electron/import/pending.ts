/**
 * Imports on their way in through the app (issue #12 "Import…"): the file arrives in chunks
 * (the browser host takes 1 MiB per call, and the chunks give the page its progress bar), is
 * recognised and read once (decrypted with the export's password when it has one), and is then
 * previewed against the vault as often as the person changes the target, and committed once.
 * Held only in the main process, only for the session that began it: lock() drops them all.
 *
 * Must never put a byte of the file, or the export's password, in an error or a log: the
 * file holds OTP keys and passwords. Errors name the upload and the step only.
 */
import { randomBytes } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { chooseImporter } from '../../shared/import/registry';
import { csvColumns } from '../../shared/import/mapped-csv';
import type { CsvMapping, Importer, ImportResult } from '../../shared/import/types';
import { nodeImportCrypto } from './crypto';
import { IMPORTERS, MAX_IMPORT_BYTES, withoutBom } from './registry';

/** Chunk size the page is told to send: 512 KiB is about 700 KB of base64, under the host's 1 MiB. */
export const IMPORT_CHUNK_BYTES = 512 * 1024;
/** One person rarely has two import dialogs open; a few cover a retry without the old one closed. */
const MAX_PENDING = 3;

interface Upload {
  readonly bytes: Buffer;
  received: number;
  /** Read once (per CSV mapping); the export's password is not kept after it. */
  read?: { readonly importer: Importer; readonly mapping: string; readonly result: ImportResult };
}

/** What the file is, once all of it has arrived. */
export interface RecognisedUpload {
  readonly format: string;
  readonly label: string;
  /** Encrypted, and not read yet: the export's password is needed. */
  readonly needsPassword: boolean;
}

function noSuchUpload(): CrewvaultError {
  return new CrewvaultError('NOT_FOUND', 'That import is no longer open (the vault was locked, or it was cancelled): choose the file again.');
}

export class PendingImports {
  private readonly uploads = new Map<string, Upload>();

  /** Starts an upload of `size` bytes; refuses what is over the bound before a byte is sent. */
  begin(size: number): { uploadId: string; chunkBytes: number } {
    if (size > MAX_IMPORT_BYTES) {
      throw new CrewvaultError('INVALID_INPUT', `The file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB; nothing was imported.`);
    }
    // The oldest goes first when too many are open: each holds a whole file in memory.
    while (this.uploads.size >= MAX_PENDING) {
      const oldest = this.uploads.keys().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
    }
    const uploadId = randomBytes(16).toString('hex');
    this.uploads.set(uploadId, { bytes: Buffer.alloc(size), received: 0 });
    return { uploadId, chunkBytes: IMPORT_CHUNK_BYTES };
  }

  /** Takes the next chunk, which must start where the last one ended. */
  chunk(uploadId: string, offset: number, data: Buffer): { received: number } {
    const upload = this.get(uploadId);
    if (offset !== upload.received) throw new CrewvaultError('INVALID_INPUT', `The import's chunks arrived out of order (expected byte ${upload.received}).`);
    if (data.length === 0 || data.length > IMPORT_CHUNK_BYTES || offset + data.length > upload.bytes.length) {
      throw new CrewvaultError('INVALID_INPUT', 'The import\'s chunk is larger than the file said it was.');
    }
    data.copy(upload.bytes, offset);
    upload.received += data.length;
    return { received: upload.received };
  }

  /** The format, recognised from the content (or the one named), and whether a password is due. */
  recognise(uploadId: string, format: string): RecognisedUpload {
    const upload = this.complete(uploadId);
    if (upload.read && (format === 'auto' || format === upload.read.importer.name)) {
      return { format: upload.read.importer.name, label: upload.read.importer.label, needsPassword: false };
    }
    const importer = chooseImporter(IMPORTERS, format, withoutBom(upload.bytes));
    return { format: importer.name, label: importer.label, needsPassword: importer.needsPassword(withoutBom(upload.bytes)) };
  }

  /**
   * What the file holds, read once and kept: previews and the commit use the same reading.
   * `password` is the export's own, needed only the first time an encrypted file is read.
   */
  async read(uploadId: string, format: string, password: string | undefined, mapping?: CsvMapping): Promise<ImportResult> {
    const upload = this.complete(uploadId);
    const mappingKey = JSON.stringify(mapping ?? null);
    if (upload.read && (format === 'auto' || format === upload.read.importer.name) && upload.read.mapping === mappingKey) return upload.read.result;
    const bytes = withoutBom(upload.bytes);
    const importer = chooseImporter(IMPORTERS, format, bytes);
    if (importer.needsPassword(bytes) && !password) throw new CrewvaultError('WRONG_PASSWORD', 'This export is encrypted: enter its password.');
    const result = await importer.read(bytes, { crypto: nodeImportCrypto, ...(password ? { password } : {}), ...(mapping ? { mapping } : {}) });
    upload.read = { importer, mapping: mappingKey, result };
    return result;
  }

  /** A CSV's header row, for the mapping step. */
  columns(uploadId: string): string[] {
    return csvColumns(withoutBom(this.complete(uploadId).bytes));
  }

  /** Forgets an upload and wipes its bytes. */
  drop(uploadId: string): void {
    const upload = this.uploads.get(uploadId);
    if (!upload) return;
    upload.bytes.fill(0);
    this.uploads.delete(uploadId);
  }

  /** Forgets every upload (the session locked). */
  clear(): void {
    for (const id of [...this.uploads.keys()]) this.drop(id);
  }

  private get(uploadId: string): Upload {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw noSuchUpload();
    return upload;
  }

  private complete(uploadId: string): Upload {
    const upload = this.get(uploadId);
    if (upload.received !== upload.bytes.length) throw new CrewvaultError('INVALID_INPUT', `The import has ${upload.received} of ${upload.bytes.length} bytes: send the rest first.`);
    return upload;
  }
}
