/**
 * Entries in and out of the vault in bulk. Import: what an importer read (shared/import),
 * each entry checked on its own, duplicates skipped, written through the entries service in
 * one transaction with one audit row of counts. Export: every entry this person can open,
 * opened for a plain file after the password is asked again.
 * Must never audit or report a secret (counts and where a problem was, nothing more).
 */
import { CrewvaultError } from '../../shared/errors';
import type { ExportEntry } from '../../shared/export/types';
import { readOtpauthList } from '../../shared/import/otpauth';
import { checkEntryCount } from '../../shared/import/collect';
import type { ImportProblem as SharedImportProblem, ImportResult as SharedImportResult } from '../../shared/import/types';
import type { EntryInput, EntrySummary, GroupSummary } from '../../shared/model';
import { validateOtpParams } from '../../shared/otp';
import { printable } from '../../shared/text';
import { notWrittenReason } from '../export/new-file';
import type { ReadDb, WriteDb } from './db';
import type { EntriesCore } from './entries-service';
import { defaultGroupId } from './entry-access';
import { field, otpIssuer } from './entry-fields';
import { NAME_ORDER } from './entry-order';
import { openDetails, openSummary, storedOtp } from './sealed-entry';
import { listEntryRowsInGroups } from './store-entries';

export interface ImportProblem {
  readonly line: number;
  readonly message: string;
}

export interface ImportResult {
  readonly added: EntrySummary[];
  readonly problems: ImportProblem[];
}

/** Where an import goes: one access group, and one customer for every entry when given. */
export interface ImportPlan {
  readonly customer?: string;
  readonly groupId?: number;
  /** false: a preview that writes nothing (and may leave the group unchosen yet). */
  readonly commit: boolean;
  /** Duplicates are skipped unless the person asks for them too (still listed either way). */
  readonly includeDuplicates?: boolean;
  /**
   * An entry that cannot be imported (a broken key, a field too long) stops the whole commit
   * unless the person, shown the list, chose to import the others without it: a file is taken
   * whole or not at all by default, so nobody finds later that a customer's keys were left
   * behind by a line they never saw.
   */
  readonly skipProblems?: boolean;
  /** Told every PROGRESS_EVERY entries written, inside the transaction (the CLI's progress line). */
  readonly onProgress?: (written: number, total: number) => void;
}

/** How often a large import says how far it is. */
export const PROGRESS_EVERY = 1000;

export interface ImportOutcome {
  /** Empty for a preview. */
  readonly added: EntrySummary[];
  /** What goes in, per customer. */
  readonly byCustomer: ReadonlyArray<{ readonly customer: string; readonly count: number }>;
  readonly groupName: string;
  readonly problems: SharedImportProblem[];
  readonly duplicates: SharedImportProblem[];
  /** What the importer warned of, made printable and short like the problems (it quotes titles). */
  readonly warnings: string[];
  readonly committed: boolean;
  /** Entries had problems and skipProblems was not given: a commit writes nothing (a preview: would write nothing). */
  readonly refused: boolean;
}

/** What a plain export asks the vault for (exportEntries). */
export interface ExportPlan {
  /** The format's name, for the audit row. */
  readonly format: string;
  /** The format holds one-time passwords only: entries without one are not opened, only counted. */
  readonly otpOnly: boolean;
  /**
   * Writes the file (or standard output) from the opened entries, awaiting `audited` just before
   * it becomes visible (linked into place, printed), so no export exists that the audit log
   * lacks; one that then fails gets a "not written" row after it. Throws if it was not written.
   */
  readonly deliver: (opened: ExportOutcome, audited: () => Promise<void>) => Promise<void>;
}

export interface ExportOutcome {
  /** Opened, in the list's order (customer, then title). */
  readonly entries: ExportEntry[];
  /** Left out because the format holds one-time passwords only. */
  readonly withoutOtp: number;
}

/** What import and export need of a signed-in session. */
export interface ImportExportCore extends Pick<EntriesCore, 'ring' | 'customers' | 'read' | 'write' | 'audit' | 'require'> {
  /** Checks this person's password again; WRONG_PASSWORD if not. */
  confirmPassword(password: string): Promise<void>;
  listGroups(): Promise<GroupSummary[]>;
  /** Checks, seals and inserts one entry (entries-service.ts `insert`). */
  insertEntry(db: WriteDb, input: EntryInput, allowed: Set<number>, auditEach: boolean): EntrySummary;
}

/** Duplicates are the same OTP key, issuer and account (case aside). */
function otpFingerprint(secret: string, issuer: string | undefined, account: string): string {
  return `${secret}\n${(issuer ?? '').toLowerCase()}\n${account.toLowerCase()}`;
}

export class ImportExportService {
  private readonly core: ImportExportCore;

  constructor(core: ImportExportCore) {
    this.core = core;
  }

  /** One otpauth:// (or otpauth-migration://) URI per line; blank lines and # comments are
   * skipped. Good lines are committed together; bad ones are reported by line number. */
  async importOtpauth(text: string, options: { customer?: string; groupId?: number } = {}): Promise<ImportResult> {
    // Its answer lists the lines it skipped: the caller asked for the good ones to go in.
    const outcome = await this.importEntries(readOtpauthList(text), { ...options, commit: true, skipProblems: true });
    const lineOf = (where: string): number => Number(/^Line (\d+)$/.exec(where)?.[1] ?? 0);
    const problems = [...outcome.problems, ...outcome.duplicates].map((p) => ({ line: lineOf(p.where), message: `${p.where}: ${p.message}` }));
    return { added: outcome.added, problems: problems.sort((a, b) => a.line - b.line) };
  }

  /**
   * Imports what an importer read (shared/import) into one access group: each entry checked on
   * its own (field limits, control characters, OTP settings), so a bad one is a problem naming
   * where it was; a commit with problems writes nothing (`refused`) unless the person chose to
   * skip them (plan.skipProblems); duplicates of what is already in the vault, or earlier in
   * the same file (same OTP key, issuer and account), are reported and skipped. `commit: false`
   * is the preview: the same answer, nothing written. What is committed is committed in one
   * transaction, audited with its counts (never its secrets).
   */
  async importEntries(read: SharedImportResult, plan: ImportPlan): Promise<ImportOutcome> {
    // Every reader checks as it goes (entries and bad items); this holds for any that did not.
    // Problems alone are not counted here: a missing page of an export is one, not an entry.
    checkEntryCount(read.entries.length);
    // The same --customer for every entry: wrong once is wrong for all, so it fails the import.
    const { fixedCustomer, groupId, seen } = await this.core.read((r) => {
      this.core.require(r, 'entries.create');
      const fixedCustomer = plan.customer === undefined ? undefined : field(plan.customer, 'customer', true);
      // A preview may come before the group is chosen (the UI shows what the file holds first);
      // a commit without one goes to the default group, as the CLI's --group rule decides.
      const groupId = plan.groupId ?? (plan.commit ? defaultGroupId(r, this.core.ring) : undefined);
      if (groupId !== undefined) this.core.require(r, 'entries.create', groupId);
      return { fixedCustomer, groupId, seen: this.otpFingerprints(r) };
    });
    // What the file says is printed back to a terminal or a screen: made printable, and short.
    const safe = (p: SharedImportProblem): SharedImportProblem => ({ where: printable(p.where, 80), message: printable(p.message, 300) });
    const problems: SharedImportProblem[] = read.problems.map(safe);
    const warnings = read.warnings.map((w) => printable(w, 300));
    const duplicates: SharedImportProblem[] = [];
    const inputs: EntryInput[] = [];
    read.entries.forEach((entry, i) => {
      const where = printable(read.where?.[i] ?? `entry ${i + 1} '${entry.title}'`, 80);
      const customer = fixedCustomer ?? entry.customer;
      if (!customer) {
        problems.push({ where, message: 'no issuer to use as the customer (pass --customer).' });
        return;
      }
      try {
        // Checked in the order a person reads them: the first problem named is the first field.
        const fields = {
          customer: field(customer, 'customer', true),
          title: field(entry.title, 'title', true),
          username: field(entry.username, 'username', false),
          url: field(entry.url, 'url', false),
          password: field(entry.password, 'password', false),
          notes: field(entry.notes, 'notes', false),
        };
        const username = fields.username;
        const issuer = entry.otp?.issuer ? otpIssuer(entry.otp.issuer) : undefined;
        const otp = entry.otp ? { params: validateOtpParams(entry.otp.params), ...(issuer ? { issuer } : {}) } : null;
        const input: EntryInput = { ...fields, otp, ...(groupId === undefined ? {} : { groupId }) };
        if (otp) {
          const fingerprint = otpFingerprint(otp.params.secret, otp.issuer, username);
          if (seen.has(fingerprint)) {
            const keep = plan.includeDuplicates === true;
            duplicates.push({ where, message: `already in the vault (same OTP key, issuer and account): ${keep ? 'imported anyway' : 'skipped'}.` });
            if (keep) inputs.push(input);
            return;
          }
          seen.add(fingerprint);
        }
        inputs.push(input);
      } catch (error) {
        if (!(error instanceof CrewvaultError)) throw error;
        problems.push({ where, message: printable(error.message, 300) });
      }
    });
    const counts = new Map<string, number>();
    for (const input of inputs) counts.set(input.customer, (counts.get(input.customer) ?? 0) + 1);
    const byCustomer = [...counts].map(([customer, count]) => ({ customer, count })).sort((a, b) => NAME_ORDER.compare(a.customer, b.customer));
    const groupName = groupId === undefined ? '' : ((await this.core.listGroups()).find((g) => g.id === groupId)?.name ?? '');
    // A preview says so too: what the commit would do is what it shows.
    const refused = problems.length > 0 && plan.skipProblems !== true;
    if (!plan.commit || groupId === undefined || refused) return { added: [], byCustomer, groupName, problems, duplicates, warnings, committed: false, refused };
    const added = await this.core.write((w) => {
      const allowed = new Set<number>();
      // One audit row for the import (its format and counts), not one per entry: 100,000
      // entry.create rows would bury what people did (issue #11's complaint about the log).
      const created = inputs.map((input, i) => {
        const summary = this.core.insertEntry(w, input, allowed, false);
        if (plan.onProgress && (i + 1) % PROGRESS_EVERY === 0) plan.onProgress(i + 1, inputs.length);
        return summary;
      });
      const skippedDuplicates = plan.includeDuplicates === true ? 0 : duplicates.length;
      this.core.audit(w, { action: 'entries.import', group_id: groupId }, `${read.format}: ${created.length} added, ${problems.length} skipped, ${skippedDuplicates} duplicates skipped`);
      return created;
    });
    return { added, byCustomer, groupName, problems, duplicates, warnings, committed: true, refused: false };
  }

  /**
   * Every entry of every group whose secret key this person holds, opened for a plain export
   * (issue #12): the file will hold passwords, notes and OTP keys, so this needs both
   * passwords.reveal and otp.reveal_secret, and the person's password again (a session left
   * open is not enough). Opened in one write transaction, with the permissions checked again
   * inside it: a role taken away while the password was being checked exports nothing. Then
   * handed to plan.deliver and audited ("entries.export": the format and the counts, never a
   * secret): "exported" once, as the file is put in place; "not written" with the reason when
   * delivering failed, since the secrets were opened either way.
   */
  async exportEntries(password: string, plan: ExportPlan): Promise<ExportOutcome> {
    await this.core.read((r) => {
      this.core.require(r, 'passwords.reveal');
      this.core.require(r, 'otp.reveal_secret');
    });
    await this.core.confirmPassword(password);
    const opened = await this.core.write((w): ExportOutcome => {
      this.core.require(w, 'passwords.reveal');
      this.core.require(w, 'otp.reveal_secret');
      this.core.customers.loadAll(w);
      const entries: ExportEntry[] = [];
      let withoutOtp = 0;
      for (const [groupId, group] of this.core.ring.groups) {
        if (!group.secret) continue;
        for (const row of listEntryRowsInGroups(w, [groupId])) {
          const summary = openSummary(row, group);
          const details = openDetails(row, group);
          const otp = storedOtp(details);
          if (plan.otpOnly && !otp) {
            withoutOtp++;
            continue;
          }
          entries.push({
            customer: this.core.customers.name(w, row.customer_id),
            title: summary.t,
            username: summary.u,
            password: details.p,
            url: summary.l,
            notes: details.n,
            otp,
            createdAt: row.created_at,
            updatedAt: row.updated_at,
          });
        }
      }
      entries.sort((a, b) => NAME_ORDER.compare(a.customer, b.customer) || NAME_ORDER.compare(a.title, b.title));
      return { entries, withoutOtp };
    });
    const withOtp = opened.entries.filter((e) => e.otp).length;
    const counts = `(${withOtp} with a one-time password), ${opened.withoutOtp} without one left out`;
    let exported = false;
    const audited = async (): Promise<void> => {
      if (exported) return;
      await this.core.write((w) => this.core.audit(w, { action: 'entries.export' }, `${plan.format}: ${opened.entries.length} exported ${counts}`));
      exported = true;
    };
    try {
      await plan.deliver(opened, audited);
    } catch (error) {
      try {
        await this.core.write((w) => this.core.audit(w, { action: 'entries.export' }, `${plan.format}: not written (${notWrittenReason(error)}); ${opened.entries.length} opened ${counts}`));
      } catch {
        // The vault could not record it (a full disk, a session locked meanwhile): the person is
        // told why the export failed, which matters more than why its audit row did too.
      }
      throw error;
    }
    // A deliverer that never called `audited` still leaves its row.
    await audited();
    return opened;
  }

  /** Every OTP key this person can open, as duplicate fingerprints (import). */
  private otpFingerprints(r: ReadDb): Set<string> {
    const seen = new Set<string>();
    for (const [groupId, group] of this.core.ring.groups) {
      if (!group.secret) continue;
      for (const row of listEntryRowsInGroups(r, [groupId])) {
        const details = openDetails(row, group);
        if (details.otp) seen.add(otpFingerprint(details.otp.secret, details.otp.issuer, openSummary(row, group).u));
      }
    }
    return seen;
  }
}
