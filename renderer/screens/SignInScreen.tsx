/** Sign in, or create the vault on first run. Wrong password: a clear message, fields kept. */
import { useState, type FormEvent } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { SessionState } from '../../shared/api/contract';
import { useCall } from '../hooks/useCall';

interface Props {
  readonly api: CrewvaultApi;
  readonly state: SessionState;
  readonly notice?: string | null;
  readonly onSignedIn: (state: SessionState) => void;
}

/** A rough strength hint for a new password: length and variety, not a promise. */
export function strengthHint(password: string): string {
  if (password.length === 0) return '';
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (password.length < 8) return 'Too short: at least 8 characters.';
  if (password.length >= 16 || (password.length >= 12 && classes >= 3)) return 'Strong.';
  return classes >= 3 ? 'Fair: longer is stronger.' : 'Weak: use a longer passphrase.';
}

export function SignInScreen({ api, state, notice, onSignedIn }: Props) {
  const creating = !state.vault.exists;
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [choosing, setChoosing] = useState(false);
  const [otherPath, setOtherPath] = useState('');
  const call = useCall();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (creating && password !== repeat) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    const signedIn = await call(creating ? api.vault.create({ username, password }) : api.session.signIn({ username, password }), setError);
    setBusy(false);
    if (signedIn) onSignedIn(signedIn);
  }

  /** The desktop app's native dialog; the browser host has none, so a path field instead. */
  async function chooseFile() {
    if (!state.vault.canPick) return setChoosing(!choosing);
    setError(null);
    const picked = await call(api.vault.pick({}), setError);
    if (picked && picked.vault.path !== state.vault.path) onSignedIn(picked);
  }

  async function openOther(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const opened = await call(api.vault.open({ path: otherPath.trim() }), setError);
    if (!opened) return;
    setChoosing(false);
    onSignedIn(opened);
  }

  return (
    <main className="centered">
      <form className="card sign-in" onSubmit={(e) => void submit(e)} aria-busy={busy}>
        <h1>Crewvault</h1>
        <p className="muted">{creating ? 'Create a vault: you will be its owner.' : 'Sign in to your team vault.'}</p>
        {notice && <p role="status">{notice}</p>}
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete={creating ? 'new-password' : 'current-password'} value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {creating && <p className="muted small" aria-live="polite">{strengthHint(password)}</p>}
        {creating && (
          <label>
            Repeat password
            <input name="repeat" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
          </label>
        )}
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? (creating ? 'Deriving the key…' : 'Signing in…') : creating ? 'Create vault' : 'Sign in'}</button>
        <p className="muted small">Vault: {state.vault.path} <button type="button" className="link" onClick={() => void chooseFile()}>Open vault file…</button></p>
      </form>
      {choosing && (
        <form className="card sign-in" onSubmit={(e) => void openOther(e)}>
          <label>
            Vault file (full path; a new path creates a vault there)
            <input value={otherPath} onChange={(e) => setOtherPath(e.target.value)} placeholder="/shared/team.crewvault" required spellCheck={false} />
          </label>
          <button type="submit">Open</button>
        </form>
      )}
    </main>
  );
}
