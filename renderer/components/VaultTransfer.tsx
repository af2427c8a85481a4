/**
 * The vault screen's "Import…", "Export…" and "Back up…" buttons and their dialogs, shown by
 * what the person may do (the vault decides again on each call): import needs entries.create,
 * export both reveal permissions, a backup an owner.
 */
import { useState } from 'react';
import type { ImportCommitted, SessionState } from '../../shared/api/contract';
import type { GroupSummary } from '../../shared/model';
import type { Connection } from '../client';
import { BackupDialog } from './BackupDialog';
import { ExportDialog } from './ExportDialog';
import { ImportDialog } from './ImportDialog';
import { Modal } from './Modal';

interface Props {
  readonly connection: Connection;
  readonly state: SessionState;
  readonly groups: readonly GroupSummary[];
  /** After a commit: what went in, for the screen to reload and say so. */
  readonly onImported: (summary: ImportCommitted) => void;
}

type Open = 'choose' | 'import' | 'export' | 'backup' | null;

/** The line the vault screen shows after an import. */
export function importedLine(done: ImportCommitted): string {
  const skipped = done.skipped + done.duplicatesSkipped;
  return `Imported ${done.added} ${done.added === 1 ? 'entry' : 'entries'} into ${done.groupName}${skipped > 0 ? `; skipped ${skipped}` : ''}`;
}

export function VaultTransfer({ connection, state, groups, onImported }: Props) {
  const [open, setOpen] = useState<Open>(null);
  const can = (p: SessionState['permissions'][number]) => state.permissions.includes(p);
  const close = () => setOpen(null);
  const mayImport = can('entries.create');
  const mayExport = can('passwords.reveal') && can('otp.reveal_secret');
  const mayBackUp = state.user?.role === 'owner';
  const ways = [mayImport && 'import', mayExport && 'export', mayBackUp && 'backup'].filter((w): w is 'import' | 'export' | 'backup' => w !== false);
  const [only] = ways;
  if (!only) return null;
  // One button in the top bar (it has little room): a chooser when more than one way is open.
  const label = ways.length > 1 ? 'Import / export…' : only === 'import' ? 'Import…' : only === 'export' ? 'Export…' : 'Back up…';
  return (
    <>
      <button type="button" onClick={() => setOpen(ways.length > 1 ? 'choose' : only)}>{label}</button>
      {open === 'choose' && (
        <Modal label="Import or export" onClose={close}>
          <h2>Import or export</h2>
          <div className="stack">
            {mayImport && <><button type="button" onClick={() => setOpen('import')}>Import…</button><p className="muted small">Entries from another app's export: authenticators, password managers, spreadsheets.</p></>}
            {mayExport && <><button type="button" onClick={() => setOpen('export')}>Export entries…</button><p className="muted small">Every entry you can reveal, in another app's format, for leaving.</p></>}
            {mayBackUp && <><button type="button" onClick={() => setOpen('backup')}>Back up the vault…</button><p className="muted small">The whole vault in one sealed file, to restore on another machine.</p></>}
          </div>
          <div className="dialog-actions"><button type="button" onClick={close}>Cancel</button></div>
        </Modal>
      )}
      {open === 'import' && (
        <Modal label="Import" onClose={close} wide>
          <ImportDialog connection={connection} groups={groups} onClose={close} onImported={(summary) => { close(); onImported(summary); }} />
        </Modal>
      )}
      {open === 'export' && <Modal label="Export" onClose={close}><ExportDialog connection={connection} state={state} onClose={close} /></Modal>}
      {open === 'backup' && <Modal label="Back up" onClose={close}><BackupDialog connection={connection} state={state} onClose={close} /></Modal>}
    </>
  );
}
