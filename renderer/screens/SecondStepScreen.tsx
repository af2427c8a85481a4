/**
 * The second sign-in step, after a right password: an authentication code from the app (or a
 * recovery code, or an admin's emergency code), with "Trust this computer" where the vault and
 * the OS keychain allow it; or, where the policy requires it and none is
 * set up yet, setting up an authenticator exactly as the Two-step sign-in panel does (the QR
 * code and the key in groups of four, one code to confirm, then the recovery codes shown once
 * with Copy and Save). Either way "Cancel and sign out" goes back to the password.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { SessionState } from '../../shared/api/contract';
import type { Transport } from '../client';
import { KeyDisplay, RecoveryCodes } from '../components/AuthenticatorSetup';
import { useCall } from '../hooks/useCall';

interface Props {
  readonly api: CrewvaultApi;
  readonly transport: Transport;
  readonly state: SessionState;
  /** `notice`: why the attempt ended (too many wrong codes, too slow), for the password screen. */
  readonly onDone: (state: SessionState, notice?: string) => void;
}

type Kind = 'code' | 'recoveryCode' | 'emergencyCode';
const LABELS: Record<Kind, string> = { code: 'Authentication code', recoveryCode: 'Recovery code', emergencyCode: 'Emergency code' };

export function SecondStepScreen({ api, transport, state, onDone }: Props) {
  const [kind, setKind] = useState<Kind>('code');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | null>(null);
  const [recovery, setRecovery] = useState<{ codes: string[]; next: SessionState } | null>(null);
  const [trust, setTrust] = useState(false);
  const call = useCall();
  const enrolling = state.pending?.step === 'enrol';
  const trustDays = state.pending?.trustDays ?? 0;

  useEffect(() => {
    if (enrolling) void call(api.mfa.begin({}), setError).then((begun) => begun && setEnrolment(begun));
  }, [api, call, enrolling]);

  async function cancel() {
    const reply = await api.session.lock({});
    if (reply.ok) onDone(reply.value);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    if (enrolling) {
      const confirmed = await call(api.mfa.confirm({ code: value }), setError);
      if (confirmed) setRecovery({ codes: confirmed.recoveryCodes, next: confirmed.state });
      return;
    }
    let problem = '';
    const signedIn = await call(api.session.verifyCode({ [kind]: value, ...(trust && trustDays > 0 ? { trustDevice: true } : {}) }), (message) => {
      problem = message;
      setError(message);
    });
    if (signedIn) return onDone(signedIn);
    setValue('');
    if (!problem) return;
    // Too many wrong codes end the attempt (the router drops it): back to the password, saying why.
    const now = await api.session.state({});
    if (now.ok && !now.value.pending) onDone(now.value, problem);
  }

  if (recovery) {
    return (
      <main className="centered">
        <div className="card sign-in">
          <h1>Recovery codes</h1>
          <RecoveryCodes api={api} transport={transport} codes={recovery.codes} />
          <button type="button" onClick={() => onDone(recovery.next)}>I have saved them</button>
        </div>
      </main>
    );
  }

  return (
    <main className="centered">
      <form className="card sign-in" onSubmit={(e) => void submit(e)}>
        <h1>{enrolling ? 'Set up an authenticator app' : 'Two-step sign-in'}</h1>
        {enrolling ? (
          <>
            <p>Your role requires an authenticator app. Add this key to it, then type the code it shows.</p>
            {enrolment && <KeyDisplay setup={enrolment} />}
          </>
        ) : (
          <div className="row wrap" role="radiogroup" aria-label="What to enter">
            {(Object.keys(LABELS) as Kind[]).map((k) => (
              <label key={k} className="inline"><input type="radio" name="kind" checked={kind === k} onChange={() => setKind(k)} /> {k === 'code' ? 'App code' : k === 'recoveryCode' ? 'Use a recovery code' : 'Emergency code'}</label>
            ))}
          </div>
        )}
        <label>
          {enrolling ? 'Authentication code' : LABELS[kind]}
          <input value={value} onChange={(e) => setValue(e.target.value)} autoComplete="one-time-code" inputMode={kind === 'code' || enrolling ? 'numeric' : 'text'} required autoFocus />
        </label>
        {!enrolling && trustDays > 0 && (
          <label className="inline">
            <input type="checkbox" checked={trust} onChange={(e) => setTrust(e.target.checked)} /> Trust this computer for {trustDays} {trustDays === 1 ? 'day' : 'days'}
          </label>
        )}
        {error && <p role="alert" className="error">{error}</p>}
        <div className="row wrap">
          <button type="submit">{enrolling ? 'Verify and save' : 'Verify'}</button>
          <button type="button" onClick={() => void cancel()}>Cancel and sign out</button>
        </div>
        <p className="muted small">Signing in as {state.pending?.username}</p>
      </form>
    </main>
  );
}
