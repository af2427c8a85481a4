/**
 * Reading the audit log (audit.read): its rows with the actor's name and the detail opened
 * under the directory key, and the hash chain walked from the start beside the keyed anchor
 * as this sign-in found it. Writing rows is the session's `audit` (store-audit.ts).
 * Must never write: reading the log is not itself an act that changes it.
 */
import { withoutRecord } from './key-pins';
import type { AuditExportPage, AuditRecord } from '../../shared/model';
import { openAuditDetail } from './directory';
import type { EntriesCore } from './entries-service';
import { listAuditRows, verifyAuditChain, type AnchorCheck, type AuditRow, type AuditVerification } from './store-audit';
import { listAuditRowsAfter } from './store-audit-pages';
import { listUsers } from './store-users';
import type { ReadDb } from './db';
import { scopeKeysOwedHere } from './scope-key-history';
import { groupsOwedWhole } from './store-replica';

/** What the audit screen and export say of an event held redacted (docs/SYNC.md "Events of groups one does not hold"). */
export const REDACTED_DETAIL = 'An event of a group you do not hold: verified by signature, body not held';

/** Rows per page of a whole-log export: one read transaction each, bounded memory. */
export const AUDIT_EXPORT_PAGE = 2000;
export type { AuditExportPage };

/** What reading the log needs of a signed-in session. */
export interface AuditReadingCore extends Pick<EntriesCore, 'ring' | 'read' | 'require'> {
  /** The keyed anchor as this sign-in found it, before writing its own row. */
  readonly anchorAtSignIn: AnchorCheck;
  /** The signed-in person's user row id: their groups judge a redacted row (verify). */
  readonly userId: () => number;
}

export class AuditReader {
  private readonly core: AuditReadingCore;

  constructor(core: AuditReadingCore) {
    this.core = core;
  }

  /**
   * The hash chain walked from the start, and the keyed anchor as this sign-in found it (audit.read).
   * A row held redacted is judged by this person's groups, as `audit verify --server` judges the
   * server's: an owner's or admin's file holds none, a member's none of a group they hold.
   */
  async verify(): Promise<{ readonly chain: AuditVerification; readonly anchor: AnchorCheck }> {
    return this.core.read((r) => {
      this.core.require(r, 'audit.read');
      return { chain: verifyAuditChain(r, scopeKeysOwedHere(r, groupsOwedWhole(r, this.core.userId()), this.core.ring)), anchor: this.core.anchorAtSignIn };
    });
  }

  /** The newest `limit` rows (in the order they were written), details opened: a screen's view, never an export. */
  async log(limit = 1000): Promise<AuditRecord[]> {
    return this.core.read((r) => {
      this.core.require(r, 'audit.read');
      return this.opened(r, listAuditRows(r, limit));
    });
  }

  /**
   * The whole log, a page at a time from the oldest row: the rows after row `after`, at most
   * `limit` (AUDIT_EXPORT_PAGE). Asked again with `next` until it is null, every row is read
   * once, whatever the log's length; each page is its own read (audit.read checked each time).
   */
  async exportPage(after = 0, limit = AUDIT_EXPORT_PAGE): Promise<AuditExportPage> {
    return this.core.read((r) => {
      this.core.require(r, 'audit.read');
      const rows = listAuditRowsAfter(r, after, limit);
      const last = rows[rows.length - 1];
      return { records: this.opened(r, rows), next: rows.length < limit || last === undefined ? null : last.id };
    });
  }

  private opened(r: ReadDb, rows: readonly AuditRow[]): AuditRecord[] {
    const names = new Map(listUsers(r).map((u) => [u.id, u.name]));
    return rows.map((row) => {
      // A v3 event held redacted (schema 21): its header only, of a group this file does not hold.
      if (row.scope !== null && row.body_salt === null) return { id: row.id, at: row.at, actor: row.actor_id === null ? null : (names.get(row.actor_id) ?? `#${row.actor_id}`), action: row.action, detail: REDACTED_DETAIL };
      const opened = row.sealed_detail ? openAuditDetail(r, this.core.ring, row, row.sealed_detail) : undefined;
      const detail = (opened === undefined ? undefined : withoutRecord(opened)) ?? row.subject ?? '';
      return { id: row.id, at: row.at, actor: row.actor_id === null ? null : (names.get(row.actor_id) ?? `#${row.actor_id}`), action: row.action, detail };
    });
  }
}
