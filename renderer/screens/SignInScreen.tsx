/**
 * Sign in, or create the vault on first run. Wrong password: a clear message, fields kept.
 * Locked (`lockedAs`): the same form says the vault is locked and keeps the user name, with the
 * focus on the password; another name signs someone else in. A wait after failed attempts is
 * counted down, and the button waits with it.
 */
import { useState, type FormEvent } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { SessionState } from '../../shared/api/contract';
import type { ErrorInfo } from '../../shared/errors';
import { useCall } from '../hooks/useCall';
import { useSecondsUntil } from '../hooks/useNow';

interface Props {
  readonly api: CrewvaultApi;
  readonly state: SessionState;
  readonly notice?: string | null;
  /** The person whose session was locked: their name is kept, the password asked. */
  readonly lockedAs?: string | null;
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

export function SignInScreen({ api, state, notice, lockedAs, onSignedIn }: Props) {
  const creating = !state.vault.exists;
  const unlocking = Boolean(lockedAs) && !creating;
  const [username, setUsername] = useState(unlocking ? (lockedAs ?? '') : '');
  /** When the vault takes the next attempt (this page's clock), after failed ones. */
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const waitSeconds = useSecondsUntil(retryAt);
  const waiting = retryAt !== null && waitSeconds > 0;
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
    setRetryAt(null);
    const failed = (message: string, info: ErrorInfo) => {
      setError(info.code === 'TOO_MANY_ATTEMPTS' ? 'Too many failed sign-in attempts.' : message);
      if (info.retryAfterSeconds !== undefined) setRetryAt(Date.now() + info.retryAfterSeconds * 1000);
    };
    const signedIn = await call(creating ? api.vault.create({ username, password }) : api.session.signIn({ username, password }), failed);
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
        {unlocking
          ? <p className="muted">The vault is locked. Enter your password to go back where you left off (or another name to sign in as someone else).</p>
          : <p className="muted">{creating ? 'Create a vault: you will be its owner.' : 'Sign in to your team vault.'}</p>}
        {notice && <p role="status">{notice}</p>}
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus={!unlocking} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete={creating ? 'new-password' : 'current-password'} value={password} onChange={(e) => setPassword(e.target.value)} required autoFocus={unlocking} />
        </label>
        {creating && <p className="muted small" aria-live="polite">{strengthHint(password)}</p>}
        {creating && (
          <label>
            Repeat password
            <input name="repeat" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
          </label>
        )}
        {error && <p role="alert" className="error">{error}</p>}
        {waiting && <p className="muted" role="timer">You can try again in <span className="mono">{waitSeconds}</span> s.</p>}
        <button type="submit" disabled={busy || waiting}>{busy ? (creating ? 'Deriving the key…' : 'Signing in…') : creating ? 'Create vault' : 'Sign in'}</button>
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
