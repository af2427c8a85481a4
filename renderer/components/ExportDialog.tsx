/**
 * "Export…" (issue #12, plain exports for leaving): every entry the person can reveal, written
 * by the vault to a file another app reads. The file is unencrypted (or, for .kdbx, under a new
 * password), so the person types a confirmation and their own password again; the vault checks
 * both reveal permissions and audits it (VaultSession.exportEntries, as `crewvault export`).
 * The page never receives the file's contents.
 */
import { useState, type FormEvent } from 'react';
import { EXPORT_FORMATS, type FileWritten, type SessionState } from '../../shared/api/contract';
import type { Connection } from '../client';
import { useCall } from '../hooks/useCall';

interface Props {
  readonly connection: Connection;
  readonly state: SessionState;
  readonly onClose: () => void;
}

type Format = (typeof EXPORT_FORMATS)[number];

const LABELS: Record<Format, string> = {
  otpauth: 'otpauth:// links, one per line (OTP entries only)',
  aegis: 'Aegis plain JSON (OTP entries only)',
  'keepassxc-csv': 'KeePassXC CSV (every entry)',
  kdbx: 'KeePass database .kdbx, under a new password (every entry)',
};

/** What the person types to say they mean it. */
export const EXPORT_CONFIRMATION = 'EXPORT';

export function ExportDialog({ connection, state, onClose }: Props) {
  const { api } = connection;
  const call = useCall();
  const [format, setFormat] = useState<Format>('keepassxc-csv');
  const [file, setFile] = useState('');
  const [password, setPassword] = useState('');
  const [databasePassword, setDatabasePassword] = useState('');
  const [databaseAgain, setDatabaseAgain] = useState('');
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<FileWritten | null>(null);
  const encrypted = format === 'kdbx';

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    if (encrypted && databasePassword !== databaseAgain) return setError('The two database passwords differ.');
    setBusy(true);
    const written = await call(api.vault.export({
      format,
      ...(file.trim() ? { path: file.trim() } : {}),
      password,
      plaintext: true,
      ...(encrypted ? { databasePassword } : {}),
    }), setError);
    setBusy(false);
    if (written?.path) setDone(written);
  }

  if (done) {
    return (
      <div className="stack">
        <h2>Exported</h2>
        <p role="status">Exported {done.entries} {done.entries === 1 ? 'entry' : 'entries'} to <span className="mono">{done.path}</span>{done.details ? `; ${done.details}` : ''}.</p>
        <p className="muted">The file is readable by you only. Delete it once it is imported elsewhere.</p>
        <div className="dialog-actions"><button type="button" onClick={onClose}>Close</button></div>
      </div>
    );
  }
  return (
    <form className="stack" onSubmit={(e) => void submit(e)} aria-busy={busy}>
      <h2>Export entries</h2>
      <label className="field">
        Format
        <select value={format} onChange={(e) => setFormat(e.target.value as Format)}>
          {EXPORT_FORMATS.map((f) => <option key={f} value={f}>{LABELS[f]}</option>)}
        </select>
      </label>
      <p className="notice" role="note">
        {encrypted
          ? 'The file will hold every password, note and OTP key you can reveal, protected only by the new password you choose.'
          : 'The file will hold every password, note and OTP key you can reveal, unencrypted: anyone who gets the file can sign in as your customers.'}
      </p>
      {!state.vault.canPick && (
        <label className="field">Export file (full path of a new file)<input value={file} onChange={(e) => setFile(e.target.value)} placeholder="/home/you/crewvault-export.csv" required /></label>
      )}
      {encrypted && (
        <>
          <label className="field">New database password<input type="password" autoComplete="new-password" value={databasePassword} onChange={(e) => setDatabasePassword(e.target.value)} required /></label>
          <label className="field">Repeat database password<input type="password" autoComplete="new-password" value={databaseAgain} onChange={(e) => setDatabaseAgain(e.target.value)} required /></label>
        </>
      )}
      <label className="field">Your password<input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
      <label className="field">Type {EXPORT_CONFIRMATION} to confirm<input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" required /></label>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="submit" className="danger" disabled={busy || typed !== EXPORT_CONFIRMATION}>{busy ? 'Exporting…' : encrypted ? 'Export' : 'Export unencrypted'}</button>
      </div>
    </form>
  );
}
