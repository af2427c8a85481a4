/**
 * One entry, every field but the secrets, and its live code as the list shows it. "Reveal
 * password", the code and "Copy password" ask the main process (permission-checked, audited);
 * "Show secret key" shows the normalised key in groups of four. Ctrl/Cmd+Shift+U and +P copy
 * the username and the password, as their buttons do and only where those are shown. Buttons
 * a person may not use are not shown — the router refuses them anyway.
 */
import { useEffect, useState } from 'react';
import type { Permission } from '../../shared/policy';
import type { EntryDetails as Details } from '../../shared/model';
import type { Connection } from '../client';
import { useCall } from '../hooks/useCall';
import { webUrl } from '../../shared/web-url';
import { ariaKeys, isShortcut, SHORTCUTS } from '../shortcuts';
import { OtpCode } from './OtpCode';

/** What of an entry can be copied. */
export type CopyField = 'username' | 'password' | 'otpCode';

interface Props {
  readonly connection: Connection;
  readonly entryId: number;
  readonly permissions: readonly Permission[];
  /** The entry's access group, when the person holds more than one. */
  readonly groupName?: string | undefined;
  /** Bumped by the parent after a save, so the details re-read. */
  readonly version: number;
  readonly onEdit: (entry: Details) => void;
  readonly onDelete: (entry: Details) => void;
  readonly onRemoveOtp: (entry: Details) => void;
  readonly onCopy: (entryId: number, what: CopyField) => void;
}

/** "TOTP · SHA1 · 6 digits · 30 s · Acme"; the kind alone where the settings are sealed from the viewer. */
function otpSettings(otp: NonNullable<Details['otp']>): string {
  const parts = [otp.kind.toUpperCase()];
  if (otp.algorithm !== undefined) parts.push(otp.algorithm);
  if (otp.digits !== undefined) parts.push(`${otp.digits} ${otp.kind === 'steam' ? 'characters' : 'digits'}`);
  if (otp.period !== undefined && otp.kind !== 'hotp') parts.push(`${otp.period} s`);
  if (otp.issuer) parts.push(otp.issuer);
  return parts.join(' · ');
}

export function EntryDetails({ connection, entryId, permissions, groupName, version, onEdit, onDelete, onRemoveOtp, onCopy }: Props) {
  const { api } = connection;
  const [entry, setEntry] = useState<Details | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [password, setPassword] = useState<string | null>(null);
  const [secretKey, setSecretKey] = useState<string | null>(null);
  const call = useCall();
  const can = (p: Permission) => permissions.includes(p);

  useEffect(() => {
    let current = true;
    setEntry(null);
    setPassword(null);
    setSecretKey(null);
    setError(null);
    void call(api.entries.get({ id: entryId }), (message) => {
      if (current) setError(message);
    }).then((details) => {
      if (current && details) setEntry(details);
    });
    return () => {
      current = false;
    };
  }, [api, call, entryId, version]);

  const canCopyUsername = entry !== null && entry.username !== '';
  const canCopyPassword = entry?.hasPassword === true && can('passwords.reveal');

  useEffect(() => {
    if (!entry) return undefined;
    function onKey(event: KeyboardEvent) {
      // Not from inside a dialog (an entry being edited): there the keys belong to the form.
      if (!entry || (event.target instanceof Element && event.target.closest('dialog'))) return;
      const what = isShortcut(event, 'copyUsername') && canCopyUsername ? 'username' : isShortcut(event, 'copyPassword') && canCopyPassword ? 'password' : null;
      if (!what) return;
      event.preventDefault();
      onCopy(entry.id, what);
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [entry, canCopyUsername, canCopyPassword, onCopy]);

  async function revealPassword() {
    const revealed = await call(api.secrets.reveal({ id: entryId, what: 'password' }), setError);
    if (revealed) setPassword(revealed.password ?? '');
  }

  // The main process opens it (shell.openExternal, http/https only); the browser host hands the
  // checked address back and this page opens it in a new tab that cannot reach back here.
  async function openUrl() {
    const opened = await call(api.url.open({ id: entryId }), setError);
    if (opened && !opened.opened) window.open(opened.url, '_blank', 'noopener,noreferrer');
  }

  async function showSecretKey() {
    const revealed = await call(api.secrets.reveal({ id: entryId, what: 'otpSecret' }), setError);
    if (revealed) setSecretKey(revealed.otpSecret ?? '');
  }

  if (error && !entry) return <section className="details"><p role="alert" className="error">{error}</p></section>;
  if (!entry) return <section className="details" aria-busy="true"><p className="muted">Loading…</p></section>;

  return (
    <section className="details" aria-label={`Details of ${entry.title}`}>
      <header>
        <h2>{entry.title}</h2>
        <p className="muted">{entry.customer}{groupName ? <> · <span className="badge" title="Access group">{groupName}</span></> : null}</p>
      </header>
      <dl>
        <dt>Username</dt>
        <dd>
          {entry.username ? <span>{entry.username}</span> : <span className="muted">—</span>}
          {canCopyUsername && <button type="button" title={SHORTCUTS.copyUsername.label} aria-keyshortcuts={ariaKeys('copyUsername')} onClick={() => onCopy(entry.id, 'username')}>Copy username</button>}
        </dd>
        <dt>Password</dt>
        <dd>
          {!entry.hasPassword ? <span className="muted">—</span> : password !== null ? (
            <span className="mono" aria-label="Password">{password}</span>
          ) : (
            <span className="muted">••••••••</span>
          )}
          {entry.hasPassword && can('passwords.reveal') && (
            <span className="actions">
              {password === null ? <button type="button" onClick={() => void revealPassword()}>Reveal password</button> : <button type="button" onClick={() => setPassword(null)}>Hide password</button>}
              <button type="button" title={SHORTCUTS.copyPassword.label} aria-keyshortcuts={ariaKeys('copyPassword')} onClick={() => onCopy(entry.id, 'password')}>Copy password</button>
            </span>
          )}
        </dd>
        <dt>URL</dt>
        <dd>
          {entry.url ? <span className="mono">{entry.url}</span> : <span className="muted">—</span>}
          {webUrl(entry.url) !== undefined && <button type="button" title="Opens in your web browser" onClick={() => void openUrl()}>Open<span className="sr-only"> {entry.url}</span></button>}
        </dd>
        <dt>Notes</dt>
        <dd className="notes">{entry.notes === null ? <span className="muted">Hidden from your role</span> : entry.notes || <span className="muted">—</span>}</dd>
        <dt>One-time password</dt>
        <dd>
          {!entry.otp ? <span className="muted">None</span> : (
            <>
              <span className="muted small">{otpSettings(entry.otp)}</span>
              {can('otp.view') && <OtpCode connection={connection} entryId={entry.id} kind={entry.otp.kind} onCopy={(id) => onCopy(id, 'otpCode')} detailed />}
              {can('otp.reveal_secret') && (secretKey !== null
                ? <p><span className="muted small">Secret key </span><span className="mono" aria-label="Secret key">{secretKey}</span> <button type="button" onClick={() => setSecretKey(null)}>Hide</button></p>
                : <p><button type="button" onClick={() => void showSecretKey()}>Show secret key</button></p>)}
            </>
          )}
        </dd>
      </dl>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="row">
        {can('entries.edit') && <button type="button" onClick={() => onEdit(entry)}>Edit</button>}
        {can('entries.edit') && entry.otp && <button type="button" onClick={() => onRemoveOtp(entry)}>Remove OTP</button>}
        {can('entries.delete') && <button type="button" className="danger" onClick={() => onDelete(entry)}>Delete</button>}
      </div>
    </section>
  );
}
