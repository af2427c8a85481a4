/**
 * Your own two-step sign-in: set up an authenticator app (a QR code drawn in the page, and the
 * key as text in groups of four for when the QR code won't scan), verify one code, then the
 * recovery codes — shown once, with "Copy" and "Save as text file". Once on: the key again
 * for a second phone (after the password or a fresh code), new recovery codes, or turning it
 * off where the policy allows.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { MfaStatus } from '../../shared/api/contract';
import type { Transport } from '../client';
import { useCall } from '../hooks/useCall';
import { KeyDisplay, RecoveryCodes } from './AuthenticatorSetup';
import { TrustedDevices } from './TrustedDevices';

/** A fresh proof: six digits are taken as a code from the app, anything else as the password. */
type Proof = { code: string } | { password: string };

function toProof(typed: string): Proof {
  const digits = typed.replace(/\s/g, '');
  return /^\d{6}$/.test(digits) ? { code: digits } : { password: typed };
}

/** Makes the change a proof was asked for; an error goes to `onError`, the form's line. */
type ProofHandler = (proof: Proof, onError: (message: string) => void) => Promise<void>;

/** Asks again who this is before a sensitive change (the router insists too). */
function ProofForm({ submitLabel, onProof, onCancel }: { submitLabel: string; onProof: ProofHandler; onCancel: () => void }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const proof = toProof(typed);
    setTyped('');
    await onProof(proof, setError);
  }

  return (
    <form onSubmit={(e) => void submit(e)} className="stack">
      <label>
        Your password, or a code from your app
        <input type="password" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="current-password" required autoFocus />
      </label>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="row">
        <button type="submit">{submitLabel}</button>
        <button type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

/** "Show the key again": asks for the password or a fresh code, then shows the current key. */
function ShowKeyAgain({ api }: { api: CrewvaultApi }) {
  const [asking, setAsking] = useState(false);
  const [shown, setShown] = useState<{ secret: string; uri: string } | null>(null);
  const call = useCall();

  const show: ProofHandler = async (proof, onError) => {
    const key = await call(api.mfa.showKey(proof), onError);
    if (!key) return;
    setShown(key);
    setAsking(false);
  };

  if (shown) {
    return (
      <div className="stack">
        <p>Add this key to your other device. It is the same key: both devices show the same codes.</p>
        <KeyDisplay setup={shown} />
        <div className="row"><button type="button" onClick={() => setShown(null)}>Hide the key</button></div>
      </div>
    );
  }
  if (!asking) return <button type="button" onClick={() => setAsking(true)}>Show the key again (another device)</button>;
  return <ProofForm submitLabel="Show the key" onProof={show} onCancel={() => setAsking(false)} />;
}

/** What the proof form's button says for each sensitive change. */
const STEP_UP_LABELS = { regenerate: 'Make new recovery codes', disable: 'Turn two-step sign-in off', reenrol: 'Set up another authenticator' } as const;

export function SecurityPanel({ api, transport, onClose }: { api: CrewvaultApi; transport: Transport; onClose: () => void }) {
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Which sensitive change is waiting for a fresh proof. */
  const [stepUp, setStepUp] = useState<'regenerate' | 'disable' | 'reenrol' | null>(null);
  const call = useCall();

  const load = useCallback(async () => {
    const current = await call(api.mfa.status({}), setError);
    if (current) setStatus(current);
  }, [api, call]);
  useEffect(() => void load(), [load]);

  async function begin() {
    setError(null);
    const begun = await call(api.mfa.begin({}), setError);
    if (begun) setEnrolment(begun);
  }

  async function confirm(event: FormEvent) {
    event.preventDefault();
    const confirmed = await call(api.mfa.confirm({ code }), setError);
    if (!confirmed) return;
    setError(null);
    setEnrolment(null);
    setCode('');
    setCodes(confirmed.recoveryCodes);
    await load();
  }

  const proven: ProofHandler = async (proof, onError) => {
    if (stepUp === 'reenrol') {
      const begun = await call(api.mfa.begin(proof), onError);
      if (!begun) return;
      setEnrolment(begun);
    } else if (stepUp === 'regenerate') {
      const regenerated = await call(api.mfa.regenerate(proof), onError);
      if (!regenerated) return;
      setCodes(regenerated.recoveryCodes);
      await load();
    } else {
      const disabled = await call(api.mfa.disable(proof), onError);
      if (!disabled) return;
      setStatus(disabled);
    }
    setStepUp(null);
  };

  return (
    <div className="stack">
      <h2>Two-step sign-in</h2>
      {status && <p>{status.enabled ? `On — ${status.recoveryCodesLeft} recovery codes left.` : 'Off.'} {status.policy === 'required' ? 'Your role requires it.' : ''}</p>}
      {codes && <RecoveryCodes api={api} transport={transport} codes={codes} />}
      {enrolment ? (
        <form onSubmit={(e) => void confirm(e)} className="stack">
          <p>Scan this with your authenticator app, or type the key into it.</p>
          <KeyDisplay setup={enrolment} />
          <label>
            Code from the app
            <input value={code} onChange={(e) => setCode(e.target.value)} inputMode="numeric" autoComplete="one-time-code" required />
          </label>
          <button type="submit">Verify and save</button>
        </form>
      ) : stepUp ? (
        <ProofForm submitLabel={STEP_UP_LABELS[stepUp]} onProof={proven} onCancel={() => setStepUp(null)} />
      ) : (
        status && status.policy !== 'off' && (
          <div className="row wrap">
            <button type="button" onClick={() => (status.enabled ? setStepUp('reenrol') : void begin())}>{status.enabled ? 'Set up again (new device)' : 'Set up authenticator app'}</button>
            {status.enabled && <button type="button" onClick={() => setStepUp('regenerate')}>New recovery codes</button>}
            {status.enabled && status.policy !== 'required' && <button type="button" className="danger" onClick={() => setStepUp('disable')}>Turn off</button>}
          </div>
        )
      )}
      {error && <p role="alert" className="error">{error}</p>}
      {status?.enabled && !enrolment && (
        <>
          <ShowKeyAgain api={api} />
          <h3>Trusted computers</h3>
          <TrustedDevices api={api} />
        </>
      )}
      <div className="dialog-actions"><button type="button" onClick={onClose}>Close</button></div>
    </div>
  );
}
