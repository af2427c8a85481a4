/**
 * Signing in to a team server from the Team server screen: the address, name and password (and
 * an invite the first time); then, as the server chooses, comparing its certificate's
 * fingerprint before it is pinned, and the second step — an authenticator, recovery or emergency
 * code, this new computer's e-mailed code, or setting up an authenticator (the QR code and key as
 * the app's own setup shows them, then the recovery codes once).
 * Must never: keep the password, invite or a code anywhere but its input field, clearing each
 * once used; trust a certificate without the person saying its fingerprint matches.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { TeamStatus } from '../../shared/api/team-contract';
import type { Transport } from '../client';
import { useCall } from '../hooks/useCall';
import { KeyDisplay, RecoveryCodes } from './AuthenticatorSetup';

interface Props {
  readonly api: CrewvaultApi;
  readonly transport: Transport;
  readonly status: TeamStatus;
  readonly onStatus: (status: TeamStatus) => void;
  readonly onSignedIn: (status: TeamStatus) => void;
}

type CodeKind = 'code' | 'recovery' | 'emergency';
const CODE_LABELS: Record<CodeKind, string> = { code: 'Authentication code', recovery: 'Recovery code', emergency: 'Emergency code' };
const CODE_CHOICES: Record<CodeKind, string> = { code: 'App code', recovery: 'Use a recovery code', emergency: 'Emergency code' };

export function TeamServerSignIn({ api, transport, status, onStatus, onSignedIn }: Props) {
  const [url, setUrl] = useState(status.certificate?.server ?? '');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [hasInvite, setHasInvite] = useState(false);
  const [invite, setInvite] = useState('');
  const [kind, setKind] = useState<CodeKind>('code');
  const [code, setCode] = useState('');
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | null>(null);
  const [recovery, setRecovery] = useState<{ codes: string[]; next: TeamStatus } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const call = useCall();
  const step = status.signIn?.step;

  useEffect(() => {
    if (step === 'enrol') void call(api.team.enrolStart({}), setError).then((setup) => setup && setEnrolment(setup));
    else setEnrolment(null);
  }, [api, call, step]);

  /** After each answer: signed in (the fields go), or the next thing the server asks. */
  function settled(next: TeamStatus) {
    setCode('');
    // Once the server took them (a second step asked, or signed in) they are used: not held while the code step shows.
    // Kept only while the certificate is compared, since the same call is made again with its fingerprint.
    if (!next.certificate) {
      setPassword('');
      setInvite('');
    }
    if (next.connected && !next.signIn && !next.certificate) {
      onSignedIn(next);
    } else {
      onStatus(next);
    }
  }

  async function run(work: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await work();
    } finally {
      setBusy(false);
    }
  }

  function connect(trustFingerprint?: string) {
    return run(async () => {
      const next = await call(api.team.connect({ url, username, password, ...(hasInvite ? { invite } : {}), ...(trustFingerprint ? { trustFingerprint } : {}) }), setError);
      if (next) settled(next);
    });
  }

  function answer(event: FormEvent) {
    event.preventDefault();
    return run(async () => {
      if (step === 'enrol') {
        const done = await call(api.team.enrolConfirm({ code }), setError);
        setCode('');
        if (done) setRecovery({ codes: done.recoveryCodes, next: done.status });
        return;
      }
      const next = await call(api.team.secondStep({ kind: step === 'device' ? 'email' : kind, code }), setError);
      setCode('');
      if (next) settled(next);
      else {
        // A sign-in the server ended (too many wrong codes) is gone: back to the password.
        const now = await call(api.team.status({}), setError);
        if (now && !now.signIn) onStatus(now);
      }
    });
  }

  function cancel() {
    return run(async () => {
      const next = await call(api.team.cancel({}), setError);
      if (next) onStatus(next);
    });
  }

  if (recovery) {
    return (
      <section className="page-section" aria-labelledby="team-recovery">
        <h2 id="team-recovery">Recovery codes for the team server</h2>
        <RecoveryCodes api={api} transport={transport} codes={recovery.codes} />
        <div className="row"><button type="button" onClick={() => { const next = recovery.next; setRecovery(null); settled(next); }}>I have saved them</button></div>
      </section>
    );
  }

  const alert = error && <p role="alert" className="error">{error}</p>;

  if (status.certificate) {
    const cert = status.certificate;
    return (
      <section className="page-section" aria-labelledby="team-cert">
        <h2 id="team-cert">Check the server&apos;s certificate</h2>
        <p>No certificate authority this computer trusts vouches for <strong>{cert.server}</strong>. Nothing has been sent to it yet.</p>
        <p>Compare this SHA-256 fingerprint, character by character, with the one the server&apos;s administrator gives you (they read it with <code>openssl x509 -noout -fingerprint -sha256</code>). Trust it only if every character matches: from then on this computer accepts only this certificate from the server.</p>
        <p className="mono notice" aria-label="Certificate fingerprint">{cert.fingerprint}</p>
        <p className="muted small">{cert.subject}, valid to {new Date(cert.validTo).toLocaleDateString()}</p>
        {alert}
        <div className="row wrap">
          <button type="button" disabled={busy || password === ''} onClick={() => void connect(cert.fingerprint)}>They match: trust and sign in</button>
          <button type="button" disabled={busy} onClick={() => void cancel()}>Cancel</button>
        </div>
      </section>
    );
  }

  if (status.signIn && step) {
    const label = step === 'device' ? 'Code from the e-mail' : step === 'enrol' ? 'Authentication code' : CODE_LABELS[kind];
    return (
      <form className="page-section" aria-labelledby="team-step" onSubmit={(e) => void answer(e)}>
        <h2 id="team-step">{step === 'enrol' ? 'Set up an authenticator app for the team server' : 'Two-step sign-in to the team server'}</h2>
        {step === 'enrol' && (
          <>
            <p>{status.signIn.server} requires an authenticator app. Add this key to it, then type the code it shows.</p>
            {enrolment && <KeyDisplay setup={enrolment} />}
          </>
        )}
        {step === 'device' && (
          <p>This computer is new to {status.signIn.server}: a code was e-mailed to {status.signIn.destination ?? 'you'}. It works once.</p>
        )}
        {step === 'code' && (
          <div className="row wrap" role="radiogroup" aria-label="What to enter">
            {(Object.keys(CODE_LABELS) as CodeKind[]).map((k) => (
              <label key={k} className="inline"><input type="radio" name="team-code-kind" checked={kind === k} onChange={() => setKind(k)} /> {CODE_CHOICES[k]}</label>
            ))}
          </div>
        )}
        <label>
          {label}
          <input value={code} onChange={(e) => setCode(e.target.value)} autoComplete="one-time-code" inputMode={kind === 'code' || step === 'enrol' ? 'numeric' : 'text'} required autoFocus />
        </label>
        {alert}
        <div className="row wrap">
          <button type="submit" disabled={busy}>{step === 'enrol' ? 'Verify and save' : 'Verify'}</button>
          {step === 'device' && <button type="button" disabled={busy} onClick={() => void run(async () => { const next = await call(api.team.emailSend({}), setError); if (next) onStatus(next); })}>Send the code again</button>}
          <button type="button" disabled={busy} onClick={() => void cancel()}>Cancel</button>
        </div>
        <p className="muted small">Signing in as {status.signIn.user} on {status.signIn.server}</p>
      </form>
    );
  }

  return (
    <form className="page-section" aria-labelledby="team-sign-in" onSubmit={(e) => { e.preventDefault(); void connect(); }}>
      <h2 id="team-sign-in">Sign in to a team server</h2>
      <p className="muted">Your vault then syncs through the server, which holds only sealed records it cannot open.</p>
      <label>
        Server address
        <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://vault.example.com" inputMode="url" autoComplete="url" required maxLength={2048} />
      </label>
      <label>
        Your name on the server
        <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" required maxLength={64} />
      </label>
      <label>
        Server password
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete={hasInvite ? 'new-password' : 'current-password'} required maxLength={1024} />
      </label>
      <label className="inline"><input type="checkbox" checked={hasInvite} onChange={(e) => setHasInvite(e.target.checked)} /> First time on this server: I have an invite (the password above becomes mine there)</label>
      {hasInvite && (
        <label>
          Invite
          <input type="password" value={invite} onChange={(e) => setInvite(e.target.value)} autoComplete="off" required maxLength={512} />
        </label>
      )}
      {alert}
      <div className="row"><button type="submit" disabled={busy}>Sign in</button></div>
    </form>
  );
}
