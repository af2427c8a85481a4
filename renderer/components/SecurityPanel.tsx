/**
 * Your own two-step sign-in: set up an authenticator app (a QR code drawn in the page, and the
 * key as text in groups of four for when the QR code won't scan), verify one code, then the
 * recovery codes — shown once, with "Copy" and "Save as text file". Once on: new recovery
 * codes, or turning it off where the policy allows.
 */
import QRCode from 'qrcode';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { MfaStatus } from '../../shared/api/contract';
import { TrustedDevices } from './TrustedDevices';

function RecoveryCodes({ codes }: { codes: readonly string[] }) {
  const [note, setNote] = useState<string | null>(null);
  function save() {
    const url = URL.createObjectURL(new Blob([`Crewvault recovery codes (each works once)\r\n\r\n${codes.join('\r\n')}\r\n`], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'crewvault-recovery-codes.txt';
    link.click();
    URL.revokeObjectURL(url);
  }
  return (
    <div>
      <p>Recovery codes — each works once in place of a code from your app. They are not shown again.</p>
      <ul className="mono plain" aria-label="Recovery codes">{codes.map((c) => <li key={c}>{c}</li>)}</ul>
      <div className="row">
        <button type="button" onClick={() => void navigator.clipboard.writeText(codes.join('\n')).then(() => setNote('Copied'), () => setNote('The browser refused clipboard access.'))}>Copy</button>
        <button type="button" onClick={save}>Save as text file</button>
        {note && <span role="status" className="muted small">{note}</span>}
      </div>
    </div>
  );
}

export function SecurityPanel({ api, onClose }: { api: CrewvaultApi; onClose: () => void }) {
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  const load = useCallback(async () => {
    const reply = await api.mfa.status({});
    if (reply.ok) setStatus(reply.value);
    else setError(reply.error.message);
  }, [api]);
  useEffect(() => void load(), [load]);

  useEffect(() => {
    if (enrolment && canvas.current) void QRCode.toCanvas(canvas.current, enrolment.uri, { width: 220, margin: 2 });
  }, [enrolment]);

  async function begin() {
    setError(null);
    const reply = await api.mfa.begin({});
    if (reply.ok) setEnrolment(reply.value);
    else setError(reply.error.message);
  }

  async function confirm(event: FormEvent) {
    event.preventDefault();
    const reply = await api.mfa.confirm({ code });
    if (!reply.ok) return setError(reply.error.message);
    setEnrolment(null);
    setCode('');
    setCodes(reply.value.recoveryCodes);
    await load();
  }

  async function regenerate() {
    const reply = await api.mfa.regenerate({});
    if (reply.ok) setCodes(reply.value.recoveryCodes);
    else setError(reply.error.message);
    await load();
  }

  async function turnOff() {
    const reply = await api.mfa.disable({});
    if (reply.ok) setStatus(reply.value);
    else setError(reply.error.message);
  }

  return (
    <div className="stack">
      <h2>Two-step sign-in</h2>
      {status && <p>{status.enabled ? `On — ${status.recoveryCodesLeft} recovery codes left.` : 'Off.'} {status.policy === 'required' ? 'Your role requires it.' : ''}</p>}
      {codes && <RecoveryCodes codes={codes} />}
      {enrolment ? (
        <form onSubmit={(e) => void confirm(e)} className="stack">
          <p>Scan this with your authenticator app, or type the key into it.</p>
          <canvas ref={canvas} aria-label="QR code for your authenticator app" role="img" />
          <p className="mono" aria-label="Secret key">{enrolment.secret}</p>
          <label>
            Code from the app
            <input value={code} onChange={(e) => setCode(e.target.value)} inputMode="numeric" autoComplete="one-time-code" required />
          </label>
          <button type="submit">Verify and save</button>
        </form>
      ) : (
        status && status.policy !== 'off' && (
          <div className="row wrap">
            <button type="button" onClick={() => void begin()}>{status.enabled ? 'Set up again (new device)' : 'Set up authenticator app'}</button>
            {status.enabled && <button type="button" onClick={() => void regenerate()}>New recovery codes</button>}
            {status.enabled && status.policy !== 'required' && <button type="button" className="danger" onClick={() => void turnOff()}>Turn off</button>}
          </div>
        )
      )}
      {error && <p role="alert" className="error">{error}</p>}
      {status?.enabled && !enrolment && (
        <>
          <h3>Trusted computers</h3>
          <TrustedDevices api={api} />
        </>
      )}
      <div className="dialog-actions"><button type="button" onClick={onClose}>Close</button></div>
    </div>
  );
}
