/**
 * Replace your own password: current, new, repeat. Other sessions of yours end. Replacing the
 * one-time password just signed in with (`oneTime`), the current one is not asked again: the
 * vault takes that sign-in as the proof, for ten minutes and while the one-time password stands.
 * When it no longer does (WRONG_PASSWORD: later, or changed from another window), the field for
 * the current password appears, so the person can go on instead of meeting a request with no
 * field to answer it.
 */
import { useState, type FormEvent } from 'react';
import type { SessionState } from '../../shared/api/contract';
import type { CrewvaultApi } from '../../shared/api/client';
import { useCall } from '../hooks/useCall';
import { strengthHint } from '../screens/SignInScreen';

interface Props {
  readonly api: CrewvaultApi;
  readonly intro: string;
  readonly onChanged: (state: SessionState) => void;
  readonly onCancel?: () => void;
  readonly oneTime?: boolean;
}

export function ChangePasswordForm({ api, intro, onChanged, onCancel, oneTime = false }: Props) {
  const [current, setCurrent] = useState('');
  const [askCurrent, setAskCurrent] = useState(!oneTime);
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const call = useCall();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (next !== repeat) return setError('The two new passwords differ.');
    setBusy(true);
    const changed = await call(api.session.changePassword(askCurrent ? { current, next } : { next }), (message, info) => {
      if (info.code === 'WRONG_PASSWORD') setAskCurrent(true);
      setError(message);
    });
    setBusy(false);
    if (changed) onChanged(changed);
  }

  return (
    <form className="sign-in" onSubmit={(e) => void submit(e)} aria-busy={busy}>
      <h2>Change password</h2>
      <p className="muted">{intro}</p>
      {askCurrent && <label>Current password<input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required autoFocus={oneTime} /></label>}
      <label>New password<input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required autoFocus={oneTime} /></label>
      <p className="muted small" aria-live="polite">{strengthHint(next)}</p>
      <label>Repeat new password<input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required /></label>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="dialog-actions">
        {onCancel && <button type="button" onClick={onCancel}>Cancel</button>}
        <button type="submit" disabled={busy}>{busy ? 'Changing…' : 'Change password'}</button>
      </div>
    </form>
  );
}
