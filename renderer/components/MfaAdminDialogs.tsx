/**
 * The two things an admin does to another person's second factor: reset it (after proving it
 * is them — their own authentication code when they have one, else their password; the router
 * checks and audits), and issue an emergency code (6 letters, once, for 2 minutes). Neither
 * keeps what was typed or shown once the dialog closes.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { Connection } from '../client';
import { useCall } from '../hooks/useCall';
import { useCopyText } from '../hooks/useCopy';
import { useNow } from '../hooks/useNow';
import { Modal } from './Modal';

interface ResetProps {
  readonly api: CrewvaultApi;
  readonly username: string;
  readonly onDone: (message: string) => void;
  readonly onCancel: () => void;
}

export function ResetMfaDialog({ api, username, onDone, onCancel }: ResetProps) {
  /** Whether the admin proves it is them with a code (they have an authenticator) or their password. */
  const [proof, setProof] = useState<'code' | 'password' | null>(null);
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const call = useCall();

  useEffect(() => {
    void call(api.mfa.status({}), setError).then((status) => status && setProof(status.enabled ? 'code' : 'password'));
  }, [api, call]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (proof === null) return;
    setBusy(true);
    setError(null);
    const reset = await call(api.mfa.reset(proof === 'code' ? { username, code: value } : { username, password: value }), setError);
    setBusy(false);
    if (reset) return onDone(`${username}'s two-step sign-in was reset: they sign in with their password and set up an authenticator again.`);
    setValue('');
  }

  const title = `Reset ${username}'s two-step sign-in?`;
  return (
    <Modal label={title} onClose={onCancel}>
      <form onSubmit={(e) => void submit(e)} aria-busy={busy}>
        <h2>{title}</h2>
        <p>Their authenticator, recovery codes and trusted computers are removed. They sign in with their password alone, and set up an authenticator again — at once if their role requires it.</p>
        {proof === null && !error && <p aria-busy="true">Checking how to confirm it is you…</p>}
        {proof !== null && (
          <>
            <label>
              {proof === 'code' ? 'Your authentication code' : 'Your password'}
              {proof === 'code'
                ? <input value={value} onChange={(e) => setValue(e.target.value)} inputMode="numeric" autoComplete="one-time-code" required autoFocus aria-describedby="reset-proof-hint" />
                : <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="current-password" required autoFocus aria-describedby="reset-proof-hint" />}
            </label>
            <p id="reset-proof-hint" className="muted small">{proof === 'code' ? 'From your own authenticator app: it confirms it is you.' : 'Your own: you have no authenticator, so your password confirms it is you.'}</p>
          </>
        )}
        {error && <p role="alert" className="error">{error}</p>}
        <div className="dialog-actions">
          <button type="button" onClick={onCancel}>Cancel</button>
          <button type="submit" className="danger" disabled={proof === null || busy}>Reset two-step sign-in</button>
        </div>
      </form>
    </Modal>
  );
}

interface EmergencyProps {
  readonly username: string;
  readonly code: string;
  /** When the code stops working, in the page's clock. */
  readonly expiresAt: number;
  readonly expiresInSeconds: number;
  readonly onClose: () => void;
  readonly connection: Connection;
}

export function EmergencyCodeDialog({ connection, username, code, expiresAt, expiresInSeconds, onClose }: EmergencyProps) {
  const now = useNow();
  const [note, setNote] = useState<string | null>(null);
  const copyText = useCopyText(connection.api, connection.transport);
  const left = Math.max(0, Math.ceil((expiresAt - now) / 1000));
  const minutes = Math.round(expiresInSeconds / 60);
  const title = `Emergency code for ${username}`;
  return (
    <Modal label={title} onClose={onClose}>
      <h2>{title}</h2>
      <p>Give it to {username} by phone or in person. It works once, in place of a code from their app, and expires in {minutes} {minutes === 1 ? 'minute' : 'minutes'}.</p>
      <output className="code emergency-code" aria-label="Emergency code">{code}</output>
      <p className="muted small">{left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left` : 'Expired: issue a new one if they still need it.'}</p>
      <div className="row">
        <button type="button" onClick={() => void copyText(code, setNote)}>Copy</button>
        {note && <span role="status" className="muted small">{note}</span>}
      </div>
      <div className="dialog-actions"><button type="button" onClick={onClose}>Close</button></div>
    </Modal>
  );
}
