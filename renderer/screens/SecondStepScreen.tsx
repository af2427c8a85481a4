/**
 * The second sign-in step, after a right password: an authentication code from the app (or a
 * recovery code, or an admin's emergency code), with "Trust this computer" where the vault and
 * the OS keychain allow it; or, where the policy requires it and none is
 * set up yet, setting up an authenticator — the key as text in groups of four and its
 * otpauth URI, one code to confirm, then the recovery codes shown once.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { SessionState } from '../../shared/api/contract';

interface Props {
  readonly api: CrewvaultApi;
  readonly state: SessionState;
  /** `notice`: why the attempt ended (too many wrong codes, too slow), for the password screen. */
  readonly onDone: (state: SessionState, notice?: string) => void;
}

type Kind = 'code' | 'recoveryCode' | 'emergencyCode';
const LABELS: Record<Kind, string> = { code: 'Authentication code', recoveryCode: 'Recovery code', emergencyCode: 'Emergency code' };

export function SecondStepScreen({ api, state, onDone }: Props) {
  const [kind, setKind] = useState<Kind>('code');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | null>(null);
  const [recovery, setRecovery] = useState<{ codes: string[]; next: SessionState } | null>(null);
  const [trust, setTrust] = useState(false);
  const enrolling = state.pending?.step === 'enrol';
  const trustDays = state.pending?.trustDays ?? 0;

  useEffect(() => {
    if (enrolling) void api.mfa.begin({}).then((reply) => (reply.ok ? setEnrolment(reply.value) : setError(reply.error.message)));
  }, [api, enrolling]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    if (enrolling) {
      const reply = await api.mfa.confirm({ code: value });
      if (reply.ok) setRecovery({ codes: reply.value.recoveryCodes, next: reply.value.state });
      else setError(reply.error.message);
      return;
    }
    const reply = await api.session.verifyCode({ [kind]: value, ...(trust && trustDays > 0 ? { trustDevice: true } : {}) });
    if (reply.ok) return onDone(reply.value);
    setError(reply.error.message);
    setValue('');
    if (reply.error.code === 'LOCKED' || /sign in with your password/.test(reply.error.message)) {
      const state = await api.session.state({});
      if (state.ok) onDone(state.value, reply.error.message);
    }
  }

  if (recovery) {
    return (
      <main className="centered">
        <div className="card sign-in">
          <h1>Recovery codes</h1>
          <p>Each works once, in place of a code from your app. Keep them somewhere safe: they are not shown again.</p>
          <ul className="mono plain" aria-label="Recovery codes">{recovery.codes.map((c) => <li key={c}>{c}</li>)}</ul>
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
            {enrolment && <p className="mono" aria-label="Secret key">{enrolment.secret}</p>}
            {enrolment && <p className="muted small mono">{enrolment.uri}</p>}
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
        <button type="submit">{enrolling ? 'Verify and save' : 'Verify'}</button>
        <p className="muted small">Signing in as {state.pending?.username}</p>
      </form>
    </main>
  );
}
