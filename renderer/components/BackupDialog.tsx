/**
 * "Back up…" (owners; issue #12): the whole vault to one file sealed under a backup password
 * typed twice, after the owner's own password again (an unlocked screen left alone must not be
 * enough to carry the vault away). The vault writes the file (electron/vault/backup.ts, as
 * `crewvault backup`); where: the door's save dialog, or a full path typed here.
 */
import { useState, type FormEvent } from 'react';
import type { FileWritten, SessionState } from '../../shared/api/contract';
import type { Connection } from '../client';
import { useCall } from '../hooks/useCall';

interface Props {
  readonly connection: Connection;
  readonly state: SessionState;
  readonly onClose: () => void;
}

const MIN_BACKUP_PASSWORD = 8;

export function BackupDialog({ connection, state, onClose }: Props) {
  const { api } = connection;
  const call = useCall();
  const [file, setFile] = useState('');
  const [password, setPassword] = useState('');
  const [backupPassword, setBackupPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<FileWritten | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    if ([...backupPassword].length < MIN_BACKUP_PASSWORD) return setError(`A backup password needs at least ${MIN_BACKUP_PASSWORD} characters.`);
    if (backupPassword !== again) return setError('The two backup passwords differ.');
    setBusy(true);
    const written = await call(api.vault.backup({ ...(file.trim() ? { path: file.trim() } : {}), password, backupPassword, backupPasswordAgain: again }), setError);
    setBusy(false);
    if (written?.path) setDone(written);
  }

  if (done) {
    return (
      <div className="stack">
        <h2>Backed up</h2>
        <p role="status">Backed up to <span className="mono">{done.path}</span>: {done.entries} entries, {done.details}.</p>
        <p className="muted">Keep the backup password apart from the file: without it nothing in the backup can be opened. Restore with <span className="mono">crewvault restore FILE --vault NEW</span>.</p>
        <div className="dialog-actions"><button type="button" onClick={onClose}>Close</button></div>
      </div>
    );
  }
  return (
    <form className="stack" onSubmit={(e) => void submit(e)} aria-busy={busy}>
      <h2>Back up the vault</h2>
      <p className="muted">Every user, group, entry, policy and the audit log, in one file sealed under a backup password. Entries stay sealed inside it as they are in the vault.</p>
      {!state.vault.canPick && (
        <label className="field">Backup file (full path of a new file)<input value={file} onChange={(e) => setFile(e.target.value)} placeholder="/home/you/crewvault.cvbackup" required /></label>
      )}
      <label className="field">Your password<input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
      <label className="field">Backup password<input type="password" autoComplete="new-password" value={backupPassword} onChange={(e) => setBackupPassword(e.target.value)} required /></label>
      <label className="field">Repeat backup password<input type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} required /></label>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="submit" disabled={busy}>{busy ? 'Backing up…' : 'Back up'}</button>
      </div>
    </form>
  );
}
