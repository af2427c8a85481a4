/**
 * The router's import, backup and plain-export calls (issue #12), apart from the router so it
 * stays about sessions and permissions: files coming in through "Import…" (held here, per
 * session, until committed, cancelled or the vault locks), and files going out through
 * "Back up the vault…" and "Export entries…". Every rule is the vault's, as for the CLI:
 * VaultSession.importEntries and exportEntries, vault/backup.ts. This module adapts the door:
 * where a file goes (a typed full path, or the door's save dialog) and what the page is told.
 *
 * Must never hand the page a secret: previews carry counts, titles and reasons; backups and
 * exports are written here, and the page learns only where and how many.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { z } from 'zod';
import type { Contract, FileWritten, ImportCommitted, ImportPreview } from '../shared/api/contract';
import { CrewvaultError } from '../shared/errors';
import { guessCsvMapping } from '../shared/import/mapped-csv';
import type { CsvMapping } from '../shared/import/types';
import { refuseExisting, writeNewFile } from './export/new-file';
import { EXPORTERS, withExportBytes } from './export/registry';
import { PendingImports } from './import/pending';
import { checkNewFile, requireBackupAllowed, validateBackupPassword, writeBackup } from './vault/backup';
import { validateNewPassword } from './vault/records';
import type { Clock, VaultSession } from './vault/service';
import type { KdfOptions } from './vault/vault';

type Input<M extends keyof Contract> = z.output<Contract[M]['input']>;

export interface TransferOptions {
  readonly clock: Clock;
  /** Argon2 settings for a backup's password (tests pass cheap ones; else DESIGN.md's). */
  readonly kdf?: KdfOptions;
  /** The door's "save file" dialog; without one, the page gives a full path. */
  readonly pickSaveFile?: (suggested: string) => Promise<string | undefined>;
}

const NOT_WRITTEN: FileWritten = { path: null, entries: 0, details: '' };

/** What file name a save dialog offers for each export format. */
const EXPORT_EXTENSIONS: Readonly<Record<string, string>> = { otpauth: 'txt', aegis: 'json', 'keepassxc-csv': 'csv', kdbx: 'kdbx' };

/** A mapping as zod hands it (fields present but undefined) made a CsvMapping. */
function mappingOf(mapping: Input<'import.preview'>['mapping']): CsvMapping | undefined {
  if (mapping === undefined) return undefined;
  return Object.fromEntries(Object.entries(mapping).filter(([, column]) => column !== undefined));
}

export class Transfers {
  private readonly options: TransferOptions;
  private readonly imports = new PendingImports();

  constructor(options: TransferOptions) {
    this.options = options;
  }

  /** Forgets (and wipes) every file on its way in: the session locked or changed. */
  clear(): void {
    this.imports.clear();
  }

  begin(size: number): { uploadId: string; chunkBytes: number } {
    return this.imports.begin(size);
  }

  chunk({ uploadId, offset, data }: Input<'import.chunk'>): { received: number } {
    return this.imports.chunk(uploadId, offset, Buffer.from(data, 'base64'));
  }

  cancel(uploadId: string): { cancelled: boolean } {
    this.imports.drop(uploadId);
    return { cancelled: true };
  }

  /** An import's preview (the same service as `crewvault import --dry-run`), or what is due first: a password, a mapping. */
  async preview(session: VaultSession, input: Input<'import.preview'>): Promise<ImportPreview> {
    const format = input.format ?? 'auto';
    const recognised = this.imports.recognise(input.uploadId, format);
    const nothingYet = { ...recognised, total: 0, byCustomer: [], groupName: '', problems: [], duplicates: [], warnings: [], needsMapping: false, columns: [], suggestedMapping: {} };
    if (recognised.needsPassword && !input.password) return nothingYet;
    if (recognised.format === 'csv' && !input.mapping) {
      const columns = this.imports.columns(input.uploadId);
      return { ...nothingYet, needsMapping: true, columns, suggestedMapping: guessCsvMapping(columns) };
    }
    const read = await this.imports.read(input.uploadId, format, input.password, mappingOf(input.mapping));
    const outcome = await session.importEntries(read, {
      commit: false,
      ...(input.groupId === undefined ? {} : { groupId: input.groupId }),
      ...(input.customer === undefined ? {} : { customer: input.customer }),
      ...(input.includeDuplicates === undefined ? {} : { includeDuplicates: input.includeDuplicates }),
    });
    return {
      ...nothingYet,
      total: outcome.byCustomer.reduce((n, c) => n + c.count, 0),
      byCustomer: outcome.byCustomer,
      groupName: outcome.groupName,
      problems: outcome.problems,
      duplicates: outcome.duplicates,
      warnings: outcome.warnings,
      needsPassword: false,
    };
  }

  /** Commits what the preview showed, into the group chosen; the upload is then wiped. */
  async commit(session: VaultSession, { uploadId, format, groupId, customer, includeDuplicates, skipProblems, mapping }: Input<'import.commit'>): Promise<ImportCommitted> {
    // Read already by the preview the person saw (an encrypted file's password was given there).
    const read = await this.imports.read(uploadId, format ?? 'auto', undefined, mappingOf(mapping));
    const outcome = await session.importEntries(read, {
      commit: true,
      groupId,
      ...(customer === undefined ? {} : { customer }),
      ...(includeDuplicates === undefined ? {} : { includeDuplicates }),
      ...(skipProblems === undefined ? {} : { skipProblems }),
    });
    if (outcome.refused) {
      // The upload stays: the person can tick "import the rest" and commit again.
      throw new CrewvaultError('INVALID_INPUT', `${outcome.problems.length === 1 ? '1 entry' : `${outcome.problems.length} entries`} cannot be imported, so nothing was imported: choose to import the rest without them, or fix the file.`);
    }
    this.imports.drop(uploadId);
    return {
      added: outcome.added.length,
      skipped: outcome.problems.length,
      duplicatesSkipped: includeDuplicates === true ? 0 : outcome.duplicates.length,
      groupName: outcome.groupName,
    };
  }

  /** The whole vault at `vaultFile` to a new backup file: owners, their password again, the backup password twice. */
  async backup(session: VaultSession, vaultFile: string, { path: typed, password, backupPassword, backupPasswordAgain }: Input<'vault.backup'>): Promise<FileWritten> {
    requireBackupAllowed(session);
    if (backupPassword !== backupPasswordAgain) throw new CrewvaultError('INVALID_INPUT', 'The two backup passwords differ; nothing was written.');
    validateBackupPassword(backupPassword);
    const target = await this.targetFile(typed, 'crewvault.cvbackup');
    if (target === null) return NOT_WRITTEN;
    checkNewFile(target, 'ALREADY_EXISTS');
    // A session left unlocked is not enough to carry the whole vault away: the password again.
    await session.confirmPassword(password);
    const contents = await writeBackup(session, vaultFile, target, backupPassword, { kdf: this.options.kdf ?? {}, now: () => this.options.clock.now() });
    return { path: target, entries: contents.entries, details: `${contents.users} users, ${contents.groups} groups, ${contents.auditRows} audit rows` };
  }

  /**
   * A plain export of every entry the person can reveal. VaultSession.exportEntries decides,
   * and audits what became of the file: so the file is written inside it (deliver), the row
   * taken just before the file appears.
   */
  async export(session: VaultSession, { format, path: typed, password, databasePassword }: Input<'vault.export'>): Promise<FileWritten> {
    const exporter = EXPORTERS.find((e) => e.name === format);
    if (!exporter) throw new CrewvaultError('INVALID_INPUT', `Unknown export format "${format}".`);
    const newPassword = exporter.encrypted ? validateNewPassword(databasePassword ?? '') : undefined;
    const target = await this.targetFile(typed, `crewvault-export.${EXPORT_EXTENSIONS[exporter.name] ?? 'txt'}`);
    if (target === null) return NOT_WRITTEN;
    await refuseExisting(target);
    const opened = await session.exportEntries(password, {
      format: exporter.name,
      otpOnly: exporter.otpOnly,
      deliver: ({ entries }, audited) =>
        withExportBytes(exporter, entries, { randomUuid: randomUUID, ...(newPassword === undefined ? {} : { password: newPassword }) }, (bytes) => writeNewFile(target, bytes, audited)),
    });
    return { path: target, entries: opened.entries.length, details: opened.withoutOtp > 0 ? `${opened.withoutOtp} without a one-time password left out` : '' };
  }

  /**
   * Where a backup or an export goes: the full path typed in the page, or the door's save
   * dialog (null when cancelled). Checked before any password is: nothing is overwritten.
   */
  private async targetFile(typed: string | undefined, suggested: string): Promise<string | null> {
    if (typed !== undefined && typed !== '') {
      if (!isAbsolute(typed)) throw new CrewvaultError('INVALID_INPUT', 'Give the file as a full path.');
      return resolvePath(typed);
    }
    if (!this.options.pickSaveFile) throw new CrewvaultError('INVALID_INPUT', 'There is no file dialog here: type the new file\'s full path.');
    return (await this.options.pickSaveFile(suggested)) ?? null;
  }
}
